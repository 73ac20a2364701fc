using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using CheeseCave.Portal.Automation;
using CheeseCave.Portal.Automation.Grants;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Tests.Automation;

public sealed class CsrSigningApiTests
{
    [Fact]
    public async Task A_line_signs_a_csr_under_a_grant_and_the_certificate_is_recorded_counted_audited_and_verifies_with_openssl()
    {
        await using var portal = await ApiPortal.StartAsync();
        var grant = await portal.GrantAsync(maxCount: 5);
        using var client = portal.Client(await portal.TokenAsync(portal.Operator, "issue"));

        using var json = await client.PostAsJsonAsync(new Uri($"/api/v1/grants/{grant.Id}/certificates", UriKind.Relative), new { csr = ApiPortal.Csr("line3-0001") });
        Assert.Equal(HttpStatusCode.Created, json.StatusCode);
        var signed = await json.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("line3-0001", signed.GetProperty("registrationId").GetString());
        Assert.Equal(4, signed.GetProperty("grantRemaining").GetInt32());

        using var pemRequest = new HttpRequestMessage(HttpMethod.Post, new Uri($"/api/v1/grants/{grant.Id}/certificates", UriKind.Relative))
        {
            Content = new StringContent(ApiPortal.Csr("LINE3-0002"), Encoding.ASCII, "application/x-pem-file"),
        };
        pemRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-pem-file"));
        using var pem = await client.SendAsync(pemRequest);
        Assert.Equal(HttpStatusCode.Created, pem.StatusCode);
        Assert.Equal("application/x-pem-file", pem.Content.Headers.ContentType?.MediaType);
        var chain = await pem.Content.ReadAsStringAsync();
        Assert.Equal(2, chain.Split("-----BEGIN CERTIFICATE-----").Length - 1); // leaf + intermediate

        var root = await portal.Factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().SingleAsync(c => c.SetupId == portal.SetupId && c.Kind == SetupCertificateKind.Root));
        var verified = await Openssl.VerifyAsync(root.Pem, chain);
        Assert.True(verified.ExitCode == 0, verified.Output);
        var verifiedJson = await Openssl.VerifyAsync(root.Pem, signed.GetProperty("chainPem").GetString()!);
        Assert.True(verifiedJson.ExitCode == 0, verifiedJson.Output);

        var devices = await portal.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().Where(d => d.GrantId == grant.Id).OrderBy(d => d.Id).ToListAsync());
        Assert.Equal(["line3-0001", "LINE3-0002"], devices.Select(d => d.RegistrationId));
        Assert.All(devices, d =>
        {
            Assert.Equal(DeviceCertificateSource.DeviceCsr, d.Source);
            Assert.Equal(portal.Operator.Identity!.Name, d.RequestedBy);
            Assert.Equal("ECDSA P-256", d.KeyType);
            Assert.False(string.IsNullOrEmpty(d.SerialNumber));
        });
        using var leaf = X509Certificate2.CreateFromPem(signed.GetProperty("certificatePem").GetString());
        Assert.Equal(devices[0].ThumbprintSha1, leaf.Thumbprint);
        Assert.InRange((leaf.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays, 364, 366);
        Assert.Equal(2, await portal.Factory.WithDbAsync(db => db.IssuanceGrants.Where(g => g.Id == grant.Id).Select(g => g.IssuedCount).SingleAsync()));
        Assert.Equal(2, await portal.Factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == AutomationAuditActions.CsrSigned && a.Outcome == AuditOutcomes.Succeeded)));
    }

    [Fact]
    public async Task A_csr_made_by_openssl_as_the_docs_show_is_signed_with_the_grant_s_validity()
    {
        await using var portal = await ApiPortal.StartAsync(name: "openssl");
        var grant = await portal.UseAsync<PortalResult<GrantView>, GrantHandler>(g => g.RequestAsync(portal.Operator, portal.SetupId, new GrantRequest("short", "line3-*", 5, 30)));
        using var client = portal.Client(await portal.TokenAsync(portal.Operator, "issue"));
        using var response = await client.PostAsync(new Uri($"/api/v1/grants/{grant.Value!.Id}/certificates", UriKind.Relative),
            new StringContent(await Openssl.CsrAsync("line3-openssl"), Encoding.ASCII, "application/x-pem-file"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var signed = await response.Content.ReadFromJsonAsync<JsonElement>();
        using var leaf = X509Certificate2.CreateFromPem(signed.GetProperty("certificatePem").GetString());
        Assert.Equal("CN=line3-openssl", leaf.Subject);
        Assert.InRange((leaf.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays, 29, 31);
    }

    public static TheoryData<string, Func<string>, string> BadCsrs => new()
    {
        { "outside the pattern", () => ApiPortal.Csr("line4-0001"), "outside this grant's pattern 'line3-*'" },
        { "not a registration id", () => ApiPortal.Csr("line3-bad id!"), "not a valid registration ID" },
        { "a CA request", () => CaCsr("line3-ca"), "asks for a CA certificate" },
        { "a weak key", () => RsaCsr("line3-weak", 1024), "too weak" },
        { "a broken signature", () => Tampered("line3-0009"), "signature does not verify" },
        { "not a CSR", () => "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "That is a certificate, not a request" },
        { "empty", () => "", "holds no CSR" },
    };

    [Theory]
    [MemberData(nameof(BadCsrs))]
    public async Task A_bad_csr_is_refused_with_400_and_one_sentence_and_changes_nothing(string what, Func<string> csr, string sentence)
    {
        await using var portal = await ApiPortal.StartAsync(name: "bad");
        var grant = await portal.GrantAsync(maxCount: 5);
        using var client = portal.Client(await portal.TokenAsync(portal.Operator, "issue"));
        using var response = await client.PostAsync(new Uri($"/api/v1/grants/{grant.Id}/certificates", UriKind.Relative), new StringContent(csr(), Encoding.ASCII, "application/x-pem-file"));
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(sentence, problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.Equal(0, await portal.Factory.WithDbAsync(db => db.SetupDevices.CountAsync()));
        Assert.Equal(0, await portal.Factory.WithDbAsync(db => db.IssuanceGrants.Where(g => g.Id == grant.Id).Select(g => g.IssuedCount).SingleAsync()));
    }

    [Fact]
    public async Task A_revoked_expired_used_up_or_unknown_grant_is_refused_with_its_status_and_changes_nothing()
    {
        await using var portal = await ApiPortal.StartAsync(name: "closed");
        using var client = portal.Client(await portal.TokenAsync(portal.Operator, "issue"));
        var usedUp = await portal.GrantAsync(maxCount: 1);
        Assert.Equal(HttpStatusCode.Created, (await SignAsync(client, usedUp.Id, "line3-0001")).StatusCode);
        await AssertProblemAsync(await SignAsync(client, usedUp.Id, "line3-0002"), HttpStatusCode.Conflict, "is used up");

        var revoked = await portal.GrantAsync();
        Assert.Equal(HttpStatusCode.Created, (await SignAsync(client, revoked.Id, "line3-0003")).StatusCode); // cached in the ledger first
        Assert.True((await portal.UseAsync<PortalResult<GrantView>, GrantHandler>(g => g.RevokeAsync(portal.Operator, revoked.Id))).Succeeded);
        await AssertProblemAsync(await SignAsync(client, revoked.Id, "line3-0004"), HttpStatusCode.Gone, "was revoked on");

        var expired = await portal.GrantAsync();
        await portal.Factory.WithDbAsync(db => db.IssuanceGrants.Where(g => g.Id == expired.Id).ExecuteUpdateAsync(s => s.SetProperty(g => g.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(-1))));
        await AssertProblemAsync(await SignAsync(client, expired.Id, "line3-0005"), HttpStatusCode.Gone, "expired on");
        await AssertProblemAsync(await SignAsync(client, 98765, "line3-0006"), HttpStatusCode.NotFound, "no such issuance grant");

        Assert.Equal(2, await portal.Factory.WithDbAsync(db => db.SetupDevices.CountAsync()));
        Assert.Equal(1, await portal.Factory.WithDbAsync(db => db.IssuanceGrants.Where(g => g.Id == revoked.Id).Select(g => g.IssuedCount).SingleAsync()));
    }

    [Fact]
    public async Task Thirty_two_concurrent_requests_on_a_grant_with_ten_left_sign_exactly_ten()
    {
        await using var portal = await ApiPortal.StartAsync(name: "race");
        var grant = await portal.GrantAsync(maxCount: 12);
        using var client = portal.Client(await portal.TokenAsync(portal.Operator, "issue"));
        Assert.Equal(HttpStatusCode.Created, (await SignAsync(client, grant.Id, "line3-first")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await SignAsync(client, grant.Id, "line3-second")).StatusCode);

        var csrs = Enumerable.Range(1, 32).Select(i => ApiPortal.Csr($"line3-{i:0000}")).ToList();
        using var start = new SemaphoreSlim(0);
        var calls = csrs.Select(async csr =>
        {
            await start.WaitAsync();
            using var response = await client.PostAsync(new Uri($"/api/v1/grants/{grant.Id}/certificates", UriKind.Relative), new StringContent(csr, Encoding.ASCII, "application/x-pem-file"));
            return response.StatusCode;
        }).ToList();
        start.Release(calls.Count);
        var statuses = await Task.WhenAll(calls);

        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(22, statuses.Count(s => s == HttpStatusCode.Conflict));
        Assert.Equal(12, await portal.Factory.WithDbAsync(db => db.SetupDevices.CountAsync(d => d.GrantId == grant.Id)));
        Assert.Equal(12, await portal.Factory.WithDbAsync(db => db.IssuanceGrants.Where(g => g.Id == grant.Id).Select(g => g.IssuedCount).SingleAsync()));
    }

    private static Task<HttpResponseMessage> SignAsync(HttpClient client, int grantId, string cn) =>
        client.PostAsync(new Uri($"/api/v1/grants/{grantId}/certificates", UriKind.Relative), new StringContent(ApiPortal.Csr(cn), Encoding.ASCII, "application/x-pem-file"));

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string sentence)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains(sentence, problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        }
    }

    private static string CaCsr(string cn)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.CreateSigningRequestPem();
    }

    private static string RsaCsr(string cn, int bits)
    {
        using var key = RSA.Create(bits);
        return new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
    }

    private static string Tampered(string cn)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var der = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256).CreateSigningRequest();
        der[^5] ^= 0x01; // inside the signature
        return PemEncoding.WriteString("CERTIFICATE REQUEST", der);
    }
}
