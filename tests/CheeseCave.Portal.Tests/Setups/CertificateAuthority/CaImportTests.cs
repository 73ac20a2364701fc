using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.CertificateAuthority;

/// <summary>Step 5 with an existing CA made by the system openssl: imported with or without its key, checked, refused in plain words.</summary>
public sealed class CaImportTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private async Task<(SetupSlices Wizard, System.Security.Claims.ClaimsPrincipal Op, int SetupId, AsyncServiceScope Scope)> NewSetupAsync(string name)
    {
        await factory.CreateUserAsync($"{name}-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync($"{name}-op");
        var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = (await wizard.Setups.CreateAsync(op, name)).Value!.Id;
        return (wizard, op, id, scope);
    }

    [Theory]
    [InlineData("ec", true, false)]
    [InlineData("ec", false, false)]
    [InlineData("rsa:2048", true, true)]
    [InlineData("rsa:3072", false, true)]
    public async Task An_external_root_is_imported_with_its_details_and_its_key_only_in_the_protected_store(string keyKind, bool withKey, bool asPfx)
    {
        using var ca = new ExternalCa();
        var name = $"imp-root-{keyKind.Replace(":", "", StringComparison.Ordinal)}-{withKey}-{asPfx}".ToLowerInvariant();
        ca.Root(name, keyKind);
        var (wizard, op, id, scope) = await NewSetupAsync(name);
        await using var _ = scope;

        CaImportRequest request;
        if (asPfx && withKey)
        {
            ca.Pfx(name, "pfx pass 7");
            request = new CaImportRequest(ca.Bytes($"{name}.pfx")) { Password = "pfx pass 7" };
        }
        else if (asPfx)
        {
            // DER, as a .cer download would be.
            request = new CaImportRequest(X509Certificate2.CreateFromPem(ca.Text($"{name}.pem")).RawData);
        }
        else
        {
            ca.EncryptKey(name, "key phrase 9");
            request = new CaImportRequest(ca.Bytes($"{name}.pem"))
            {
                PrivateKeyPem = withKey ? ca.Bytes($"{name}.enc.key.pem") : null,
                KeyPassphrase = withKey ? "key phrase 9" : null,
            };
        }

        var result = await wizard.CaImport.ImportCaAsync(op, id, request);

        Assert.True(result.Succeeded, result.Error?.Message);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        var root = Assert.Single(view.Certificates);
        Assert.Equal(SetupCertificateKind.Root, root.Kind);
        Assert.Equal(withKey, root.HasKey);
        Assert.Equal(name, root.Description.CommonName);
        Assert.True(root.Description.IsCa);
        Assert.True(root.Description.IsSelfSigned);
        var sha256 = ca.Run("x509", "-in", $"{name}.pem", "-noout", "-fingerprint", "-sha256").Split('=')[1].Trim().Replace(":", "", StringComparison.Ordinal);
        Assert.Equal(sha256, root.ThumbprintSha256);
        Assert.Equal(sha256, root.Description.ThumbprintSha256);
        Assert.Contains(keyKind.StartsWith("rsa", StringComparison.Ordinal) ? "RSA" : "P-256", root.Description.KeyDescription, StringComparison.Ordinal);
        Assert.Equal(StepState.Done, view.StatusOf(5).State);
        Assert.Equal(StepState.Blocked, view.StatusOf(6).State); // no DPS in this setup

        var stored = await factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().SingleAsync(c => c.SetupId == id));
        Assert.DoesNotContain("PRIVATE", stored.Pem, StringComparison.Ordinal);
        if (withKey)
        {
            var protectedKey = await factory.WithDbAsync(db => db.ProtectedKeys.AsNoTracking().SingleAsync(k => k.KeyId == stored.KeyId));
            Assert.DoesNotContain("PRIVATE KEY", Encoding.ASCII.GetString(protectedKey.ProtectedBytes), StringComparison.Ordinal);
            // The stored key is the one openssl made: it signs, and the certificate's public key checks the signature.
            var keys = scope.ServiceProvider.GetRequiredService<IKeyStore>();
            using var opened = await keys.OpenAsync(stored.KeyId!);
            using var x509 = X509Certificate2.CreateFromPem(stored.Pem);
            Assert.True(((PrivateKey)opened).Matches(x509));
        }
        else
        {
            Assert.Null(stored.KeyId);
        }

        var audit = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Action == CaImportAuditActions.CaImported && a.Actor == $"{name}-op").ToListAsync());
        Assert.Contains(audit, a => a.Outcome == AuditOutcomes.Succeeded && a.Detail!.Contains(withKey ? "key stored encrypted" : "without key", StringComparison.Ordinal));
        Assert.All(audit, a => Assert.DoesNotContain("PRIVATE", a.Detail ?? "", StringComparison.Ordinal));

        // PEM and DER downloads work as for a generated CA.
        var pem = await wizard.CaDownloads.DownloadCertificateAsync(op, id, root.Id, der: false);
        Assert.Equal(ca.Text($"{name}.pem").Trim(), Encoding.ASCII.GetString(pem.Value!.Content).Trim());
        var der = await wizard.CaDownloads.DownloadCertificateAsync(op, id, root.Id, der: true);
        Assert.Equal(X509Certificate2.CreateFromPem(ca.Text($"{name}.pem")).RawData, der.Value!.Content);
    }

    [Fact]
    public void The_import_form_keeps_its_files_in_memory_never_in_a_temporary_file()
    {
        var endpoint = factory.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Single(e => e.RoutePattern.RawText == "/setups/{setupId:int}/ca/import");
        var limits = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IFormOptionsMetadata>();
        Assert.NotNull(limits);
        Assert.True(limits.MemoryBufferThreshold >= limits.MultipartBodyLengthLimit, $"parts above {limits.MemoryBufferThreshold} bytes would be buffered to disk");
        Assert.True(limits.MultipartBodyLengthLimit >= 3L * CaImportLimits.MaxFileBytes);
    }

    [Fact]
    public async Task An_intermediate_with_its_chain_brings_its_root_and_issues_devices_while_a_keyless_root_cannot()
    {
        using var ca = new ExternalCa();
        ca.Root("ext-root", "rsa:2048");
        ca.Signed("ext-intermediate", "ext-root");
        ca.EncryptKey("ext-intermediate", "inter phrase");

        // Intermediate + key, chain as a separate file; the root's key stays outside.
        var (wizard, op, id, scope) = await NewSetupAsync("imp-chain");
        await using (scope)
        {
            var imported = await wizard.CaImport.ImportCaAsync(op, id, new CaImportRequest(ca.Bytes("ext-intermediate.pem"))
            {
                PrivateKeyPem = ca.Bytes("ext-intermediate.enc.key.pem"),
                KeyPassphrase = "inter phrase",
                Chain = ca.Bytes("ext-root.pem"),
            });
            Assert.True(imported.Succeeded, imported.Error?.Message);
            Assert.Equal(SetupCertificateKind.Intermediate, imported.Value!.Certificate.Kind);
            var view = (await wizard.Setups.GetAsync(op, id)).Value!;
            Assert.Equal([(SetupCertificateKind.Root, false), (SetupCertificateKind.Intermediate, true)], view.Certificates.Select(c => (c.Kind, c.HasKey)));
            Assert.Equal("ext-root", view.Root!.Description.CommonName);

            var devices = await wizard.Devices.IssueDevicesAsync(op, id, ["cave-sensor-1"]);
            Assert.True(devices.Succeeded, devices.Error?.Message);
            var leafPem = (await wizard.DeviceDownloads.DownloadDeviceFileAsync(op, id, devices.Value!.Devices[0].Id, DeviceFileKind.Certificate)).Value!.Content;
            File.WriteAllBytes(ca.PathOf("leaf.pem"), leafPem);
            Assert.Contains("leaf.pem: OK", ca.Run("verify", "-CAfile", "ext-root.pem", "-untrusted", "ext-intermediate.pem", "leaf.pem"), StringComparison.Ordinal);
        }

        // The same root without key, then its intermediate added with key and no chain (the root is in the setup).
        var (wizard2, op2, id2, scope2) = await NewSetupAsync("imp-add-intermediate");
        await using (scope2)
        {
            Assert.True((await wizard2.CaImport.ImportCaAsync(op2, id2, new CaImportRequest(ca.Bytes("ext-root.pem")))).Succeeded);
            var refused = await wizard2.Devices.IssueDevicesAsync(op2, id2, ["cave-sensor-2"]);
            Assert.False(refused.Succeeded);
            Assert.Contains("does not hold the private key", refused.Error!.Message, StringComparison.Ordinal);

            var added = await wizard2.CaImport.ImportCaAsync(op2, id2, new CaImportRequest(ca.Bytes("ext-intermediate.pem"))
            {
                PrivateKeyPem = ca.Bytes("ext-intermediate.key.pem"),
            });
            Assert.True(added.Succeeded, added.Error?.Message);
            Assert.True((await wizard2.Devices.IssueDevicesAsync(op2, id2, ["cave-sensor-2"])).Succeeded);

            // A third CA is refused: the setup has its root and intermediate.
            var third = await wizard2.CaImport.ImportCaAsync(op2, id2, new CaImportRequest(ca.Bytes("ext-intermediate.pem")));
            Assert.Contains("already has its root and intermediate", third.Error!.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("not a CA", "is not a CA")]
    [InlineData("no keyCertSign", "keyCertSign")]
    [InlineData("expired", "expired on 2021-01-01")]
    [InlineData("not yet valid", "is not valid yet")]
    [InlineData("mismatched key", "does not belong")]
    [InlineData("wrong PFX password", "password is wrong")]
    [InlineData("PFX without password", "without a password")]
    [InlineData("wrong key passphrase", "passphrase is wrong")]
    [InlineData("garbage", "could not be read")]
    [InlineData("empty", "No certificate was given")]
    [InlineData("too large", "the limit is 524,288 bytes")]
    [InlineData("key too large", "key file is")]
    [InlineData("intermediate without chain", "that issuer is not among the certificates given")]
    [InlineData("chain with an unrelated root", "that issuer is not among the certificates given")]
    [InlineData("RSA 1024", "at least 2048 bits")]
    [InlineData("two keys", "Two private keys")]
    [InlineData("a CSR", "certificate signing request")]
    public async Task Bad_imports_are_refused_in_plain_words_and_store_nothing(string input, string expected)
    {
        using var ca = new ExternalCa();
        var request = Build(ca, input);
        var (wizard, op, id, scope) = await NewSetupAsync("bad-" + input.Replace(' ', '-').ToLowerInvariant());
        await using var _ = scope;

        var result = await wizard.CaImport.ImportCaAsync(op, id, request);

        Assert.False(result.Succeeded);
        Assert.Contains(expected, result.Error!.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(result.Error.WhatToDo));
        Assert.DoesNotContain("PRIVATE", result.Error.Message, StringComparison.Ordinal);
        Assert.False(await factory.WithDbAsync(db => db.SetupCertificates.AnyAsync(c => c.SetupId == id)));
        Assert.False(await factory.WithDbAsync(db => db.ProtectedKeys.AnyAsync(k => k.KeyId.StartsWith($"setup-{id}/"))));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == CaImportAuditActions.CaImported && a.Target == $"setup {id} \"bad-{input.Replace(' ', '-').ToLowerInvariant()}\"" && a.Outcome == AuditOutcomes.Failed)));
    }

    private static CaImportRequest Build(ExternalCa ca, string input)
    {
        switch (input)
        {
            case "not a CA":
                ca.Root("r");
                ca.Signed("leaf", "r", extensions: "v3_leaf");
                return new CaImportRequest(Encoding.ASCII.GetBytes(ca.Text("leaf.pem") + ca.Text("r.pem")));
            case "no keyCertSign":
                ca.Root("r", extensions: "v3_no_certsign");
                return new CaImportRequest(ca.Bytes("r.pem"));
            case "expired":
                ca.RootValidBetween("old", "20200101000000Z", "20210101000000Z");
                return new CaImportRequest(ca.Bytes("old.pem"));
            case "not yet valid":
                ca.RootValidBetween("future", "20990101000000Z", "21000101000000Z");
                return new CaImportRequest(ca.Bytes("future.pem"));
            case "mismatched key":
                ca.Root("a");
                ca.Root("b");
                return new CaImportRequest(ca.Bytes("a.pem")) { PrivateKeyPem = ca.Bytes("b.key.pem") };
            case "wrong PFX password":
                ca.Root("r");
                ca.Pfx("r", "right one");
                return new CaImportRequest(ca.Bytes("r.pfx")) { Password = "wrong one" };
            case "PFX without password":
                ca.Root("r");
                ca.Pfx("r", "right one");
                return new CaImportRequest(ca.Bytes("r.pfx"));
            case "wrong key passphrase":
                ca.Root("r");
                ca.EncryptKey("r", "right one");
                return new CaImportRequest(ca.Bytes("r.pem")) { PrivateKeyPem = ca.Bytes("r.enc.key.pem"), KeyPassphrase = "wrong one" };
            case "garbage":
                return new CaImportRequest(Encoding.ASCII.GetBytes("this is not a certificate at all"));
            case "empty":
                return new CaImportRequest([]);
            case "too large":
                return new CaImportRequest(new byte[CaImportLimits.MaxFileBytes + 1]);
            case "key too large":
                ca.Root("r");
                return new CaImportRequest(ca.Bytes("r.pem")) { PrivateKeyPem = new byte[CaImportLimits.MaxFileBytes + 1] };
            case "intermediate without chain":
                ca.Root("r");
                ca.Signed("i", "r");
                return new CaImportRequest(ca.Bytes("i.pem")) { PrivateKeyPem = ca.Bytes("i.key.pem") };
            case "chain with an unrelated root":
                ca.Root("r");
                ca.Root("other");
                ca.Signed("i", "r");
                return new CaImportRequest(ca.Bytes("i.pem")) { Chain = ca.Bytes("other.pem") };
            case "RSA 1024":
                ca.Root("weak", "rsa:1024");
                return new CaImportRequest(ca.Bytes("weak.pem"));
            case "two keys":
                ca.Root("r");
                return new CaImportRequest(Encoding.ASCII.GetBytes(ca.Text("r.pem") + ca.Text("r.key.pem"))) { PrivateKeyPem = ca.Bytes("r.key.pem") };
            case "a CSR":
                ca.Root("r");
                ca.Signed("i", "r");
                return new CaImportRequest(ca.Bytes("i.csr.pem"));
            default:
                throw new ArgumentOutOfRangeException(nameof(input), input, "unknown case");
        }
    }

    [Fact]
    public async Task The_import_form_posts_outside_the_circuit_and_the_step_shows_the_outcome()
    {
        using var ca = new ExternalCa();
        ca.Root("posted-root");
        await factory.CreateUserAsync("imp-http-op", PortalRoles.Operator);
        await factory.CreateUserAsync("imp-http-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("imp-http-op");
        int id;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            id = (await new SetupSlices(scope.ServiceProvider).Setups.CreateAsync(op, "Posted cave")).Value!.Id;
        }

        // A viewer's post is refused by the service (and audited); the page says so.
        using (var viewer = await factory.SignedInClientAsync("imp-http-viewer"))
        {
            using var refused = await PostImportAsync(viewer, id, ca.Bytes("posted-root.pem"), null);
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            var page = await Forms.GetPageAsync(viewer, Forms.RedirectPath(refused));
            Assert.Contains("You are not allowed to import a CA", WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        }

        using var client = await factory.SignedInClientAsync("imp-http-op");
        // Without the antiforgery token the form is refused outright.
        using (var content = new MultipartFormDataContent())
        {
            content.Add(new ByteArrayContent(ca.Bytes("posted-root.pem")), CaImportEndpoint.FieldCertificate, "posted-root.pem");
            using var forged = await client.PostAsync(new Uri($"/setups/{id}/ca/import", UriKind.Relative), content);
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }

        // Pasted text over the limit gets a plain message instead of a dead session.
        using (var tooLong = await PostImportAsync(client, id, null, new string('A', CaImportLimits.MaxPasteChars + 1)))
        {
            var page = WebUtility.HtmlDecode(await Forms.GetPageAsync(client, Forms.RedirectPath(tooLong)));
            Assert.Contains("pasting is limited to", page, StringComparison.Ordinal);
        }

        using var posted = await PostImportAsync(client, id, ca.Bytes("posted-root.pem"), null, ("key", ca.Bytes("posted-root.key.pem")));
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var location = Forms.RedirectPath(posted);
        Assert.StartsWith($"/setups/{id}/ca?import=", location, StringComparison.Ordinal);
        var html = WebUtility.HtmlDecode(await Forms.GetPageAsync(client, location));
        Assert.Contains("data-import-succeeded", html, StringComparison.Ordinal);
        Assert.Contains("with its private key (stored encrypted)", html, StringComparison.Ordinal);
        // The key never comes back: not a line of its base64 body is on the page.
        Assert.All(ca.Text("posted-root.key.pem").Split('\n').Where(l => l.Length > 20 && !l.StartsWith("-----", StringComparison.Ordinal)),
            line => Assert.DoesNotContain(line.Trim(), html, StringComparison.Ordinal));
        Assert.True(await factory.WithDbAsync(db => db.SetupCertificates.AnyAsync(c => c.SetupId == id && c.KeyId != null)));

        // The outcome belongs to its user: another user opening the same link sees no outcome.
        using var other = await factory.SignedInClientAsync("imp-http-viewer");
        Assert.DoesNotContain("data-import-succeeded", await Forms.GetPageAsync(other, location), StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> PostImportAsync(HttpClient client, int setupId, byte[]? certificate, string? pasted, params (string Field, byte[] Bytes)[] files)
    {
        var token = await Forms.AntiforgeryTokenAsync(client, $"/setups/{setupId}/ca");
        using var content = new MultipartFormDataContent
        {
            { new StringContent(token), "__RequestVerificationToken" },
            { new StringContent(pasted ?? ""), CaImportEndpoint.FieldCertificateText },
        };
        if (certificate is not null)
        {
            var file = new ByteArrayContent(certificate);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(file, CaImportEndpoint.FieldCertificate, "ca.pem");
        }

        foreach (var (field, bytes) in files)
        {
            content.Add(new ByteArrayContent(bytes), field, field + ".pem");
        }

        return await client.PostAsync(new Uri($"/setups/{setupId}/ca/import", UriKind.Relative), content);
    }
}
