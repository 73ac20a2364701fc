using System.IO.Compression;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Devices;

/// <summary>Step 9: device certificates from the setup's CA, keys only in the short download window, authorized downloads.</summary>
public sealed class DeviceCertificatesTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Devices_are_issued_from_the_intermediate_and_only_public_material_is_stored()
    {
        await factory.CreateUserAsync("dev-op", PortalRoles.Operator);
        await factory.CreateUserAsync("dev-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("dev-op");
        var viewer = await factory.PrincipalForAsync("dev-viewer");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = (await wizard.Setups.CreateAsync(op, "Device cave")).Value!.Id;
        Assert.True((await wizard.CaGeneration.GenerateCaAsync(op, id, "Device Root", "Device Intermediate", ProfilePreset.Recommended)).Succeeded);

        var ids = DeviceSettings.Expand("cave-", 3);
        Assert.Equal(["cave-001", "cave-002", "cave-003"], ids);
        Assert.False((await wizard.Devices.IssueDevicesAsync(viewer, id, ids)).Succeeded); // Viewer refused

        var batch = await wizard.Devices.IssueDevicesAsync(op, id, ids);
        Assert.True(batch.Succeeded, batch.Error?.Message);
        Assert.Equal(3, batch.Value!.Devices.Count);
        Assert.True(batch.Value.PfxPassword.Length >= 32);
        Assert.All(batch.Value.Devices, d => Assert.True(d.KeyAvailable));

        var stored = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().Where(d => d.SetupId == id).ToListAsync());
        Assert.Equal(3, stored.Count);
        Assert.All(stored, d =>
        {
            Assert.DoesNotContain("PRIVATE", d.CertificatePem + d.ChainPem, StringComparison.Ordinal);
            using var leaf = X509Certificate2.CreateFromPem(d.CertificatePem);
            Assert.Equal($"CN={d.RegistrationId}", leaf.Subject);
            Assert.Equal("CN=Device Intermediate", leaf.Issuer);
            Assert.Equal(2, d.ChainPem.Split("BEGIN CERTIFICATE").Length - 1); // leaf + intermediate
            Assert.Equal(batch.Value.BatchId, d.BatchId);
            Assert.Equal("dev-op", d.IssuedBy);
        });

        // The password is nowhere in the database or the audit log.
        var password = batch.Value.PfxPassword;
        Assert.False(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => (a.Detail ?? "").Contains(password))));

        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.Equal(10, view.CurrentStep);
        var listed = (await wizard.Devices.ListDevicesAsync(viewer, id)).Value!;
        Assert.Equal(3, listed.Count);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "dev-op" && a.Action == AuditActions.SetupDevicesIssued && a.Outcome == AuditOutcomes.Succeeded)));
    }

    [Fact]
    public async Task Bad_registration_ids_are_refused_and_upper_case_is_a_warning()
    {
        await factory.CreateUserAsync("dev-bad-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("dev-bad-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = (await wizard.Setups.CreateAsync(op, "Bad id cave")).Value!.Id;
        Assert.False((await wizard.Devices.IssueDevicesAsync(op, id, ["cave-1"])).Succeeded); // no CA yet
        Assert.True((await wizard.CaGeneration.GenerateCaAsync(op, id, "Bad Root", null, ProfilePreset.Recommended)).Succeeded);

        var refused = await wizard.Devices.IssueDevicesAsync(op, id, ["good-1", "bad id!", "trailing."]);
        Assert.False(refused.Succeeded);
        Assert.Contains("bad id!", refused.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("trailing.", refused.Error.Message, StringComparison.Ordinal);
        Assert.False((await wizard.Devices.IssueDevicesAsync(op, id, ["twice", "TWICE"])).Succeeded);
        Assert.Equal(0, await factory.WithDbAsync(db => db.SetupDevices.CountAsync(d => d.SetupId == id)));

        var checks = DeviceSettings.Check(DeviceSettings.ParseLines("ok-1\n\n  Cave-Upper  \nbad/slash"));
        Assert.Equal(3, checks.Count);
        Assert.True(checks[0].IsValid);
        Assert.True(checks[1].IsValid);
        Assert.NotEmpty(checks[1].Warnings);
        Assert.False(checks[2].IsValid);

        var upper = await wizard.Devices.IssueDevicesAsync(op, id, ["Cave-Upper"]);
        Assert.True(upper.Succeeded, upper.Error?.Message);
        Assert.Contains(upper.Value!.Warnings, w => w.Contains("upper-case", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Downloads_need_the_right_role_and_viewers_never_get_a_key()
    {
        await factory.CreateUserAsync("dd-op", PortalRoles.Operator);
        await factory.CreateUserAsync("dd-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("dd-op");
        int setupId;
        DeviceBatchView batch;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var wizard = new SetupSlices(scope.ServiceProvider);
            setupId = (await wizard.Setups.CreateAsync(op, "Download devices")).Value!.Id;
            Assert.True((await wizard.CaGeneration.GenerateCaAsync(op, setupId, "DD Root", "DD Intermediate", ProfilePreset.Recommended)).Succeeded);
            batch = (await wizard.Devices.IssueDevicesAsync(op, setupId, ["dd-001", "dd-002"])).Value!;
        }

        var device = batch.Devices.Single(d => d.RegistrationId == "dd-001");
        var basePath = $"/setups/{setupId}/devices/{device.Id}/dd-001";

        using var anonymous = factory.CreatePortalClient();
        using (var refused = await anonymous.GetAsync(new Uri(basePath + ".cert.pem", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        }

        using var viewer = await factory.SignedInClientAsync("dd-viewer");
        using (var cert = await viewer.GetAsync(new Uri(basePath + ".cert.pem", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, cert.StatusCode);
            Assert.Equal("dd-001.cert.pem", cert.Content.Headers.ContentDisposition?.FileName);
            Assert.DoesNotContain("PRIVATE", await cert.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var chain = await viewer.GetAsync(new Uri(basePath + "-chain.pem", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, chain.StatusCode);
            Assert.Equal("dd-001-chain.pem", chain.Content.Headers.ContentDisposition?.FileName);
        }

        foreach (var secret in new[] { ".key.pem", ".pfx" })
        {
            using var denied = await viewer.GetAsync(new Uri(basePath + secret, UriKind.Relative));
            Assert.False(denied.IsSuccessStatusCode, secret);
            Assert.DoesNotContain(PemLabels.PrivateKey, await denied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(2, await factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Actor == "dd-viewer" && a.Action == AuditActions.SetupDeviceFileDownloaded && a.Outcome == AuditOutcomes.Denied)));

        // The viewer's ZIP: certificates and the README, no key, no PFX.
        using (var zipResponse = await viewer.GetAsync(new Uri($"/setups/{setupId}/batches/{batch.BatchId}.zip", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, zipResponse.StatusCode);
            using var zip = new ZipArchive(await zipResponse.Content.ReadAsStreamAsync());
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("dd-001/dd-001.cert.pem", names);
            Assert.Contains("dd-002/dd-002-chain.pem", names);
            Assert.Contains("README.md", names);
            Assert.DoesNotContain(names, n => n.EndsWith(".key.pem", StringComparison.Ordinal) || n.EndsWith(".pfx", StringComparison.Ordinal));
            foreach (var entry in zip.Entries)
            {
                using var reader = new StreamReader(entry.Open());
                Assert.DoesNotContain(PemLabels.PrivateKey, await reader.ReadToEndAsync(), StringComparison.Ordinal);
            }
        }

        // The operator gets the key and the PFX (with the chain) opening with the password shown once.
        using var operatorClient = await factory.SignedInClientAsync("dd-op");
        using (var key = await operatorClient.GetAsync(new Uri(basePath + ".key.pem", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, key.StatusCode);
            Assert.Equal("dd-001.key.pem", key.Content.Headers.ContentDisposition?.FileName);
            Assert.Contains("no-store", key.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
            Assert.StartsWith(PemLabels.BeginLine(PemLabels.PrivateKey), await key.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var pfx = await operatorClient.GetAsync(new Uri(basePath + ".pfx", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, pfx.StatusCode);
            var collection = X509CertificateLoader.LoadPkcs12Collection(await pfx.Content.ReadAsByteArrayAsync(), batch.PfxPassword);
            Assert.Contains(collection, c => c.HasPrivateKey && c.Subject == "CN=dd-001");
            Assert.Contains(collection, c => c.Subject == "CN=DD Intermediate");
        }

        using (var zipResponse = await operatorClient.GetAsync(new Uri($"/setups/{setupId}/batches/{batch.BatchId}.zip", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, zipResponse.StatusCode);
            Assert.EndsWith($"{batch.BatchId}.zip", zipResponse.Content.Headers.ContentDisposition?.FileName, StringComparison.Ordinal);
            using var zip = new ZipArchive(await zipResponse.Content.ReadAsStreamAsync());
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("dd-002/dd-002.key.pem", names);
            Assert.Contains("dd-002/dd-002.pfx", names);
            using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
            var text = await readme.ReadToEndAsync();
            Assert.Contains("\"RegistrationId\": \"dd-002\"", text, StringComparison.Ordinal);
            Assert.Contains("GlobalDeviceEndpoint", text, StringComparison.Ordinal);
        }

        // Another operator may not take this operator's keys (a plain refusal naming whose they are), and their ZIP has none.
        await factory.CreateUserAsync("dd-op2", PortalRoles.Operator);
        using (var otherOperator = await factory.SignedInClientAsync("dd-op2"))
        {
            foreach (var secret in new[] { ".key.pem", ".pfx" })
            {
                using var notYours = await otherOperator.GetAsync(new Uri(basePath + secret, UriKind.Relative));
                Assert.Equal(HttpStatusCode.Forbidden, notYours.StatusCode);
                Assert.StartsWith("Only dd-op, who issued this batch, can download its keys", await notYours.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using var zipResponse = await otherOperator.GetAsync(new Uri($"/setups/{setupId}/batches/{batch.BatchId}.zip", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, zipResponse.StatusCode);
            using var zip = new ZipArchive(await zipResponse.Content.ReadAsStreamAsync());
            Assert.Contains("dd-001/dd-001.cert.pem", zip.Entries.Select(e => e.FullName));
            Assert.DoesNotContain(zip.Entries, e => e.FullName.EndsWith(".key.pem", StringComparison.Ordinal) || e.FullName.EndsWith(".pfx", StringComparison.Ordinal));
        }

        Assert.Equal(3, await factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Actor == "dd-op2" && a.Action == AuditActions.SetupDeviceFileDownloaded && a.Outcome == AuditOutcomes.Denied)));

        // After the window the key is gone (410); certificates stay.
        factory.Services.GetRequiredService<DeviceKeyVault>().Forget(device.Id);
        using (var gone = await operatorClient.GetAsync(new Uri(basePath + ".key.pem", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        }

        using (var still = await operatorClient.GetAsync(new Uri(basePath + ".cert.pem", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        }
    }
}
