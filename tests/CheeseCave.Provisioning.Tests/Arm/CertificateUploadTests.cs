using System.Text.Json.Nodes;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.Arm;

/// <summary>
/// DPS certificate upload: "verified on upload" (isVerified) creates a certificate DPS trusts without proof of
/// possession, and the etag the client reports changes with every change (what the portal compares, never shows).
/// </summary>
public sealed class CertificateUploadTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private TestEmulator Emulator => fixture.Emulator;

    [Fact]
    public async Task A_certificate_created_with_isVerified_is_verified_at_once_and_says_so_on_the_wire()
    {
        using var pki = new TestPki("OnUpload");
        JsonNode? sent = null;
        var arm = Emulator.Arm(wrap: inner => new RecordingHandler(inner, async (request, _) =>
        {
            if (request.Method == HttpMethod.Put && request.RequestUri!.AbsolutePath.Contains("/certificates/", StringComparison.Ordinal) && request.Content is not null)
            {
                sent = JsonNode.Parse(await request.Content.ReadAsStringAsync());
            }
        }));
        var rg = Emulator.ResourceGroup;
        var dps = TestEmulator.Unique("dps");
        await arm.CreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(rg, dps, "eastus"));

        var created = await arm.UploadCertificateAsync(rg, dps, "trusted", pki.Root.Certificate, isVerified: true);

        Assert.True(created.IsVerified);
        Assert.True(sent!["isVerified"]!.GetValue<bool>());
        Assert.True((await arm.GetCertificateAsync(rg, dps, "trusted"))!.IsVerified);

        // Without the choice a new certificate starts unverified.
        var plain = await arm.UploadCertificateAsync(rg, dps, "plain", pki.Root.Certificate);
        Assert.False(plain.IsVerified);
        Assert.False(sent!["isVerified"]!.GetValue<bool>());
    }

    [Fact]
    public async Task The_etag_changes_with_a_new_verification_code_and_a_re_upload_but_not_with_a_read()
    {
        using var pki = new TestPki("Etags");
        var arm = Emulator.Arm();
        var rg = Emulator.ResourceGroup;
        var dps = TestEmulator.Unique("dps");
        await arm.CreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(rg, dps, "eastus"));
        var uploaded = await arm.UploadCertificateAsync(rg, dps, "root", pki.Root.Certificate);
        Assert.False(string.IsNullOrEmpty(uploaded.ETag));

        var code = await arm.GenerateVerificationCodeAsync(rg, dps, "root");
        var afterCode = (await arm.GetCertificateAsync(rg, dps, "root"))!;
        Assert.NotEqual(uploaded.ETag, afterCode.ETag);
        Assert.Equal(afterCode.ETag, (await arm.GetCertificateAsync(rg, dps, "root"))!.ETag);
        Assert.Equal(code.Certificate.ETag, afterCode.ETag);

        var again = await arm.UploadCertificateAsync(rg, dps, "root", pki.Root.Certificate);
        Assert.NotEqual(afterCode.ETag, again.ETag);
    }
}
