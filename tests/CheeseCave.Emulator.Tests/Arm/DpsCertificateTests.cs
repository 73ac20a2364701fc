using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CheeseCave.Pki;

namespace CheeseCave.Emulator.Tests.Arm;

/// <summary>A root and an intermediate under it, made once for the class (key generation is the slow part).</summary>
public sealed class CaFixture : IDisposable
{
    public CaFixture()
    {
        Authority = new CertificateAuthority();
        Root = Authority.CreateRoot(new RootCaRequest("CheeseCave Test Root"));
        RootCa = Root.ToCaCredential();
        Intermediate = Authority.CreateIntermediate(new IntermediateCaRequest("CheeseCave Test Intermediate"), RootCa);
        IntermediateCa = Intermediate.ToCaCredential();
        Impostor = Authority.CreateRoot(new RootCaRequest("CheeseCave Test Root"));
        ImpostorCa = Impostor.ToCaCredential();
    }

    public CertificateAuthority Authority { get; }

    public IssuedCertificate Root { get; }

    public CaCredential RootCa { get; }

    public IssuedCertificate Intermediate { get; }

    public CaCredential IntermediateCa { get; }

    /// <summary>Same name as <see cref="Root"/>, different key.</summary>
    public IssuedCertificate Impostor { get; }

    public CaCredential ImpostorCa { get; }

    public string RootPem => CertificateExport.ToPem(Root.Certificate);

    public string VerificationPem(string code, CaCredential signer)
    {
        using var verification = Authority.CreateVerificationCertificate(new VerificationCertificateRequest(code), signer);
        return CertificateExport.ToPem(verification.Certificate);
    }

    public void Dispose()
    {
        RootCa.Dispose();
        IntermediateCa.Dispose();
        ImpostorCa.Dispose();
        Root.Dispose();
        Intermediate.Dispose();
        Impostor.Dispose();
    }
}

public sealed class DpsCertificateTests(EmulatorFixture fixture, CaFixture cas) : IClassFixture<EmulatorFixture>, IClassFixture<CaFixture>
{
    private readonly ArmCalls _arm = new(fixture.Emulator);

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private async Task<string> NewDpsAsync()
    {
        var name = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(name);
        return name;
    }

    private async Task<JsonObject> UploadAsync(string dps, string cert, JsonObject body)
    {
        var (status, json, _) = await _arm.CallAsync(HttpMethod.Put, _arm.CertPath(dps, cert), body);
        Assert.True(status == HttpStatusCode.OK, json?.ToJsonString());
        return json!;
    }

    [Fact]
    public async Task Proof_of_possession_flow_create_generate_verify()
    {
        var dps = await NewDpsAsync();

        // Node 6.0.0 shape: properties-wrapped, base64 of the PEM text.
        var created = await UploadAsync(dps, "root", new JsonObject { ["properties"] = new JsonObject { ["certificate"] = Base64(cas.RootPem), ["isVerified"] = false } });
        var properties = created["properties"]!;
        Assert.Equal("root", created["name"]!.GetValue<string>());
        Assert.Equal("Microsoft.Devices/ProvisioningServices/Certificates", created["type"]!.GetValue<string>());
        Assert.EndsWith($"/ProvisioningServices/{dps}/certificates/root", created["id"]!.GetValue<string>());
        Assert.Equal("CN=CheeseCave Test Root", properties["subject"]!.GetValue<string>());
        Assert.Equal(cas.Root.Certificate.Thumbprint, properties["thumbprint"]!.GetValue<string>());
        Assert.Matches("^[0-9A-F]{40}$", properties["thumbprint"]!.GetValue<string>());
        Assert.False(properties["isVerified"]!.GetValue<bool>());
        AssertCertificateIsNull(properties); // as in Azure's recorded PUT answers
        var expiry = DateTimeOffset.ParseExact(properties["expiry"]!.GetValue<string>(), "r", CultureInfo.InvariantCulture);
        Assert.Equal(cas.Root.Certificate.NotAfter.ToUniversalTime(), expiry.UtcDateTime);
        Assert.EndsWith(" GMT", properties["created"]!.GetValue<string>());
        Assert.EndsWith(" GMT", properties["updated"]!.GetValue<string>());

        var (codeStatus, code, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/generateVerificationCode", ifMatch: ArmCalls.Etag(created));
        Assert.Equal(HttpStatusCode.OK, codeStatus);
        var verificationCode = code!["properties"]!["verificationCode"]!.GetValue<string>();
        Assert.Matches("^[0-9A-F]{48}$", verificationCode);
        Assert.NotEqual(ArmCalls.Etag(created), ArmCalls.Etag(code));
        Assert.Equal("CN=CheeseCave Test Root", code["properties"]!["subject"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(cas.Root.Certificate.RawData), code["properties"]!["certificate"]!.GetValue<string>()); // only this answer has it

        // The old etag no longer works.
        var (stale, staleBody, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/verify",
            new JsonObject { ["certificate"] = cas.VerificationPem(verificationCode, cas.RootCa) }, ifMatch: ArmCalls.Etag(created));
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale);
        Assert.Contains("read the certificate again", ArmCalls.ErrorMessage(staleBody));

        var (verifyStatus, verified, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/verify",
            new JsonObject { ["certificate"] = cas.VerificationPem(verificationCode, cas.RootCa) }, ifMatch: $"\"{ArmCalls.Etag(code)}\"");
        Assert.Equal(HttpStatusCode.OK, verifyStatus);
        Assert.True(verified!["properties"]!["isVerified"]!.GetValue<bool>());
        Assert.NotEqual(ArmCalls.Etag(code), ArmCalls.Etag(verified));
        Assert.Null(verified["properties"]!["verificationCode"]);
        AssertCertificateIsNull(verified["properties"]!);

        var (_, got, _) = await _arm.CallAsync(HttpMethod.Get, _arm.CertPath(dps, "root"));
        Assert.True(got!["properties"]!["isVerified"]!.GetValue<bool>());
        AssertCertificateIsNull(got["properties"]!);
        var (_, list, _) = await _arm.CallAsync(HttpMethod.Get, $"{_arm.DpsPath(dps)}/certificates");
        AssertCertificateIsNull(Assert.Single(list!["value"]!.AsArray())!["properties"]!);
        Assert.Equal(ArmCalls.Etag(verified), ArmCalls.Etag(got));

        // The code is used up: verifying again needs a new one.
        var (again, againBody, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/verify",
            new JsonObject { ["certificate"] = cas.VerificationPem(verificationCode, cas.RootCa) }, ifMatch: "*");
        Assert.Equal(HttpStatusCode.BadRequest, again);
        Assert.Contains("generate a verification code first", ArmCalls.ErrorMessage(againBody));
    }

    [Fact]
    public async Task Verification_signed_by_the_root_when_the_intermediate_was_uploaded_is_400_naming_the_signer()
    {
        var dps = await NewDpsAsync();
        var created = await UploadAsync(dps, "intermediate", new JsonObject { ["certificate"] = CertificateExport.ToPem(cas.Intermediate.Certificate) });
        var (_, code, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "intermediate")}/generateVerificationCode", ifMatch: ArmCalls.Etag(created));
        var verificationCode = code!["properties"]!["verificationCode"]!.GetValue<string>();

        var (status, body, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "intermediate")}/verify",
            new JsonObject { ["certificate"] = cas.VerificationPem(verificationCode, cas.RootCa) }, ifMatch: ArmCalls.Etag(code));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = ArmCalls.ErrorMessage(body);
        Assert.Contains("Proof-of-possession failed", message);
        Assert.Contains("signed by 'CN=CheeseCave Test Root'", message);
        Assert.Contains("not by the key of 'CN=CheeseCave Test Intermediate'", message);

        // Nothing changed: same etag, still unverified, and the code still works with the right signer.
        var (_, got, _) = await _arm.CallAsync(HttpMethod.Get, _arm.CertPath(dps, "intermediate"));
        Assert.Equal(ArmCalls.Etag(code), ArmCalls.Etag(got!));
        Assert.False(got!["properties"]!["isVerified"]!.GetValue<bool>());
        var (ok, _, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "intermediate")}/verify",
            new JsonObject { ["certificate"] = Base64(cas.VerificationPem(verificationCode, cas.IntermediateCa)) }, ifMatch: ArmCalls.Etag(code));
        Assert.Equal(HttpStatusCode.OK, ok);
    }

    [Fact]
    public async Task Verification_signed_by_another_key_with_the_same_name_is_400()
    {
        var dps = await NewDpsAsync();
        var created = await UploadAsync(dps, "root", new JsonObject { ["certificate"] = cas.RootPem });
        var (_, code, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/generateVerificationCode", ifMatch: ArmCalls.Etag(created));
        var verificationCode = code!["properties"]!["verificationCode"]!.GetValue<string>();

        var (status, body, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/verify",
            new JsonObject { ["certificate"] = cas.VerificationPem(verificationCode, cas.ImpostorCa) }, ifMatch: ArmCalls.Etag(code));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("signature does not verify", ArmCalls.ErrorMessage(body));
    }

    [Fact]
    public async Task Verification_certificate_with_the_wrong_CN_is_400_showing_expected_and_got()
    {
        var dps = await NewDpsAsync();
        var created = await UploadAsync(dps, "root", new JsonObject { ["certificate"] = cas.RootPem });
        var (_, code, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/generateVerificationCode", ifMatch: ArmCalls.Etag(created));
        var verificationCode = code!["properties"]!["verificationCode"]!.GetValue<string>();

        var (status, body, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/verify",
            new JsonObject { ["certificate"] = cas.VerificationPem("0123456789ABCDEF", cas.RootCa) }, ifMatch: ArmCalls.Etag(code));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = ArmCalls.ErrorMessage(body);
        Assert.Contains(verificationCode, message);
        Assert.Contains("'0123456789ABCDEF'", message);
    }

    [Fact]
    public async Task Verify_before_any_code_is_400_and_without_If_Match_is_400()
    {
        var dps = await NewDpsAsync();
        var created = await UploadAsync(dps, "root", new JsonObject { ["certificate"] = cas.RootPem });
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/verify",
            new JsonObject { ["certificate"] = cas.VerificationPem("ABCDEF", cas.RootCa) }, ifMatch: ArmCalls.Etag(created));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("generate a verification code first", ArmCalls.ErrorMessage(body));

        (status, body, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/verify", new JsonObject { ["certificate"] = cas.RootPem });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("MissingIfMatchHeader", ArmCalls.ErrorCode(body));

        (status, body, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/generateVerificationCode");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("MissingIfMatchHeader", ArmCalls.ErrorCode(body));

        (status, body, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/generateVerificationCode", ifMatch: "AAAAAAAAAAA=");
        Assert.Equal(HttpStatusCode.PreconditionFailed, status);
        Assert.Equal("PreconditionFailed", ArmCalls.ErrorCode(body));
    }

    [Fact]
    public async Task Create_with_isVerified_true_skips_proof_of_possession()
    {
        var dps = await NewDpsAsync();
        var created = await UploadAsync(dps, "root", new JsonObject { ["certificate"] = Convert.ToBase64String(cas.Root.Certificate.RawData), ["isVerified"] = true });
        Assert.True(created["properties"]!["isVerified"]!.GetValue<bool>());
    }

    public static TheoryData<string, bool> Encodings => new()
    {
        { "pem", false }, { "pem", true }, { "base64pem", false }, { "base64pem", true }, { "base64der", false }, { "base64der", true },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task Both_body_shapes_and_every_encoding_are_accepted(string encoding, bool wrapped)
    {
        var dps = await NewDpsAsync();
        var value = encoding switch
        {
            "pem" => cas.RootPem,
            "base64pem" => Base64(cas.RootPem),
            _ => Convert.ToBase64String(cas.Root.Certificate.RawData),
        };
        var inner = new JsonObject { ["certificate"] = value };
        var created = await UploadAsync(dps, "c1", wrapped ? new JsonObject { ["properties"] = inner } : inner);
        AssertCertificateIsNull(created["properties"]!);
        Assert.Equal(cas.Root.Certificate.Thumbprint, created["properties"]!["thumbprint"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_private_key_in_the_upload_is_refused_in_every_form()
    {
        var dps = await NewDpsAsync();
        var withKey = cas.RootPem + cas.Root.Key!.ExportUnencryptedPem(iUnderstandTheKeyIsNotProtected: true);
        foreach (var value in new[] { withKey, Base64(withKey), Convert.ToBase64String(CertificateExport.ToPfx(cas.Root, "pw")) })
        {
            var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.CertPath(dps, "leaky"), new JsonObject { ["certificate"] = value });
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("Never upload a private key", ArmCalls.ErrorMessage(body));
        }

        var (getStatus, _, _) = await _arm.CallAsync(HttpMethod.Get, _arm.CertPath(dps, "leaky"));
        Assert.Equal(HttpStatusCode.NotFound, getStatus);
    }

    [Fact]
    public async Task Garbage_missing_or_chained_certificates_are_400()
    {
        var dps = await NewDpsAsync();
        var cases = new JsonObject[]
        {
            new() { ["certificate"] = "not a certificate!" },
            new() { ["certificate"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("hello")) },
            new() { ["isVerified"] = true },
            new() { ["certificate"] = CertificateExport.ToPem([cas.Intermediate.Certificate, cas.Root.Certificate]) },
        };
        foreach (var body in cases)
        {
            var (status, error, _) = await _arm.CallAsync(HttpMethod.Put, _arm.CertPath(dps, "bad"), body);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("InvalidCertificate", ArmCalls.ErrorCode(error));
        }
    }

    [Fact]
    public async Task Updating_needs_the_current_etag_and_create_ignores_If_Match()
    {
        var dps = await NewDpsAsync();
        var created = await UploadAsync(dps, "root", new JsonObject { ["certificate"] = cas.RootPem });
        var (noEtag, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.CertPath(dps, "root"), new JsonObject { ["certificate"] = cas.RootPem, ["isVerified"] = true });
        Assert.Equal(HttpStatusCode.PreconditionFailed, noEtag);
        Assert.Contains("Read the certificate again", ArmCalls.ErrorMessage(body));

        var (stale, staleBody, _) = await _arm.CallAsync(HttpMethod.Put, _arm.CertPath(dps, "root"), new JsonObject { ["certificate"] = cas.RootPem, ["isVerified"] = true }, ifMatch: "\"AAAAAAAAAAA=\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale);
        Assert.Equal("PreconditionFailed", ArmCalls.ErrorCode(staleBody));
        var (_, unchanged, _) = await _arm.CallAsync(HttpMethod.Get, _arm.CertPath(dps, "root"));
        Assert.False(unchanged!["properties"]!["isVerified"]!.GetValue<bool>());
        Assert.Equal(ArmCalls.Etag(created), ArmCalls.Etag(unchanged));

        var (ok, updated, _) = await _arm.CallAsync(HttpMethod.Put, _arm.CertPath(dps, "root"), new JsonObject { ["certificate"] = cas.RootPem, ["isVerified"] = true }, ifMatch: ArmCalls.Etag(created));
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.True(updated!["properties"]!["isVerified"]!.GetValue<bool>());
        Assert.NotEqual(ArmCalls.Etag(created), ArmCalls.Etag(updated));
        Assert.Equal(created["properties"]!["created"]!.GetValue<string>(), updated["properties"]!["created"]!.GetValue<string>());

        var (createStatus, _, _) = await _arm.CallAsync(HttpMethod.Put, _arm.CertPath(dps, "other"), new JsonObject { ["certificate"] = cas.RootPem }, ifMatch: "\"whatever\"");
        Assert.Equal(HttpStatusCode.OK, createStatus);
    }

    [Fact]
    public async Task Concurrent_steps_with_the_same_etag_let_exactly_one_win()
    {
        var dps = await NewDpsAsync();
        var created = await UploadAsync(dps, "root", new JsonObject { ["certificate"] = cas.RootPem });
        var attempts = Enumerable.Range(0, 8).Select(_ => _arm.SendAsync(HttpMethod.Post, $"{_arm.CertPath(dps, "root")}/generateVerificationCode", ifMatch: ArmCalls.Etag(created)));
        var responses = await Task.WhenAll(attempts);
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.PreconditionFailed));
        foreach (var response in responses) response.Dispose();
    }

    [Fact]
    public async Task Get_list_and_delete_with_If_Match()
    {
        var dps = await NewDpsAsync();
        var root = await UploadAsync(dps, "root", new JsonObject { ["certificate"] = cas.RootPem });
        await UploadAsync(dps, "intermediate", new JsonObject { ["certificate"] = CertificateExport.ToPem(cas.Intermediate.Certificate) });

        var (listStatus, list, _) = await _arm.CallAsync(HttpMethod.Get, $"{_arm.DpsPath(dps)}/certificates");
        Assert.Equal(HttpStatusCode.OK, listStatus);
        Assert.Equal(["intermediate", "root"], list!["value"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToArray());

        var (missing, missingBody, _) = await _arm.CallAsync(HttpMethod.Get, _arm.CertPath(dps, "nope"));
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("ResourceNotFound", ArmCalls.ErrorCode(missingBody));

        var (noIfMatch, noIfMatchBody, _) = await _arm.CallAsync(HttpMethod.Delete, _arm.CertPath(dps, "root"));
        Assert.Equal(HttpStatusCode.BadRequest, noIfMatch);
        Assert.Contains("If-Match", ArmCalls.ErrorMessage(noIfMatchBody));

        var (wrong, _, _) = await _arm.CallAsync(HttpMethod.Delete, _arm.CertPath(dps, "root"), ifMatch: "AAAAAAAAAAA=");
        Assert.Equal(HttpStatusCode.PreconditionFailed, wrong);

        var (deleted, _, _) = await _arm.CallAsync(HttpMethod.Delete, _arm.CertPath(dps, "root"), ifMatch: ArmCalls.Etag(root));
        Assert.Equal(HttpStatusCode.OK, deleted);
        var (gone, _, _) = await _arm.CallAsync(HttpMethod.Get, _arm.CertPath(dps, "root"));
        Assert.Equal(HttpStatusCode.NotFound, gone);
        var (again, _, _) = await _arm.CallAsync(HttpMethod.Delete, _arm.CertPath(dps, "root"), ifMatch: "*");
        Assert.Equal(HttpStatusCode.NoContent, again);

        var (noDps, _, _) = await _arm.CallAsync(HttpMethod.Get, $"{_arm.DpsPath(ArmCalls.Unique("nodps"))}/certificates");
        Assert.Equal(HttpStatusCode.NotFound, noDps);
    }

    [Fact]
    public async Task Names_are_limited_to_256_characters_and_25_certificates_per_service()
    {
        var dps = await NewDpsAsync();
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.CertPath(dps, new string('a', 257)), new JsonObject { ["certificate"] = cas.RootPem });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidCertificateName", ArmCalls.ErrorCode(body));

        for (var i = 0; i < 25; i++)
        {
            await UploadAsync(dps, $"c{i}", new JsonObject { ["certificate"] = cas.RootPem });
        }

        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.CertPath(dps, "c25"), new JsonObject { ["certificate"] = cas.RootPem });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("25 certificates", ArmCalls.ErrorMessage(body));
    }

    /// <summary>Present and null: Azure's certificate answers (other than generateVerificationCode) carry "certificate": null.</summary>
    private static void AssertCertificateIsNull(JsonNode properties)
    {
        Assert.True(properties.AsObject().ContainsKey("certificate"));
        Assert.Null(properties["certificate"]);
    }
}
