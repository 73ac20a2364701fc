using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

/// <summary>
/// One certGen-compatible chain with every default left alone: RSA-4096 keys (slow to generate, so the only three
/// in the suite, made once per class), 30 days, certGen's extension set. Issued at the real time so openssl can verify it.
/// </summary>
public sealed class CertGenChainFixture : IDisposable
{
    public CertGenChainFixture()
    {
        Now = RealClock().GetUtcNow();
        Chain = new TestChain(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now), ProfilePreset.CertGenCompatible, keyAlgorithm: null, "new-device");
    }

    public DateTimeOffset Now { get; }

    public TestChain Chain { get; }

    public void Dispose() => Chain.Dispose();
}

public sealed class CertGenDefaultsTests(CertGenChainFixture fixture) : IClassFixture<CertGenChainFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Defaults_are_RSA4096_and_thirty_days_with_certGen_s_extensions()
    {
        // The fixture's chain was built without a KeyAlgorithm, so the preset's own default is what is checked.
        var chain = fixture.Chain;
        ProfileTests.AssertProfile(chain.Root, CertificateKind.Root, ProfilePreset.CertGenCompatible, KeyAlgorithm.Rsa4096, chain.Root.Certificate, fixture.Now);
        ProfileTests.AssertProfile(chain.Intermediate, CertificateKind.Intermediate, ProfilePreset.CertGenCompatible, KeyAlgorithm.Rsa4096, chain.Root.Certificate, fixture.Now);
        ProfileTests.AssertProfile(chain.Device, CertificateKind.Device, ProfilePreset.CertGenCompatible, KeyAlgorithm.Rsa4096, chain.Intermediate.Certificate, fixture.Now);
        using var rsa = chain.Device.Certificate.GetRSAPublicKey();
        Assert.Equal(4096, rsa!.KeySize);
        Assert.Equal(TimeSpan.FromDays(30) + TimeSpan.FromMinutes(5), NotAfter(chain.Device.Certificate) - NotBefore(chain.Device.Certificate));
    }

    [Fact]
    public void OpenSSL_verifies_and_prints_the_certGen_chain()
    {
        var chain = fixture.Chain;
        _temp.WritePem("root.pem", chain.Root.Certificate);
        _temp.WritePem("intermediate.pem", chain.Intermediate.Certificate);
        _temp.WritePem("device.pem", chain.Device.Certificate);
        _temp.WritePem("chain.pem", chain.Intermediate.Certificate, chain.Root.Certificate); // certGen's azure-iot-test-only.chain.ca.cert.pem

        var verify = OpenSsl.TryRun(_temp.Path, "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", "root.pem", "-untrusted", "intermediate.pem", "device.pem");
        Assert.True(verify.Succeeded, verify.AllOutput);
        Assert.Contains("device.pem: OK", verify.StandardOutput, StringComparison.Ordinal);
        Assert.True(OpenSsl.TryRun(_temp.Path, "verify", "-CAfile", "chain.pem", "device.pem").Succeeded);

        var root = OpenSsl.Text(_temp.Path, "root.pem");
        Assert.Contains("Public-Key: (4096 bit)", root, StringComparison.Ordinal);
        Assert.Contains("sha256WithRSAEncryption", root, StringComparison.Ordinal);
        Assert.Contains("CA:TRUE\n", root, StringComparison.Ordinal);
        Assert.DoesNotContain("pathlen", root, StringComparison.Ordinal);

        var device = OpenSsl.Text(_temp.Path, "device.pem");
        Assert.Contains("Subject: CN = new-device", device, StringComparison.Ordinal);
        Assert.Contains("Digital Signature, Non Repudiation, Key Encipherment", device, StringComparison.Ordinal);
        Assert.Contains("TLS Web Client Authentication, E-mail Protection", device, StringComparison.Ordinal);
    }

    [Fact]
    public void PFX_of_the_certGen_device_holds_the_whole_chain()
    {
        const string Password = "certgen pfx password";
        _temp.Write("new-device.cert.pfx", CertificateExport.ToPfx(fixture.Chain.Device, Password, PfxEncryption.LegacyCompatible));
        _temp.Write("pass.txt", Password + "\n");
        var certificates = OpenSsl.Run(_temp.Path, "pkcs12", "-in", "new-device.cert.pfx", "-passin", "file:pass.txt", "-nokeys");
        Assert.Equal(3, OpenSsl.CountCertificates(certificates));
        using var read = CertificateReader.Read(_temp.ReadBytes("new-device.cert.pfx"), Password);
        Assert.Equal(KeyAlgorithm.Rsa4096, read.Key!.Algorithm);
        Assert.True(read.Key.Matches(fixture.Chain.Device.Certificate));
    }

    [Fact]
    public void Linter_sees_a_thirty_day_chain_that_should_be_renewed_soon()
    {
        var chain = fixture.Chain;
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(fixture.Now);
        clock.Advance(TimeSpan.FromDays(1));
        var report = CertificateLinter.Lint([chain.Device.Certificate, chain.Intermediate.Certificate, chain.Root.Certificate], clock, "new-device");
        Assert.False(report.HasErrors, string.Join("\n", report.Findings));
        Assert.Equal(3, report.Findings.Count(f => f.Code == "expires-soon"));
        Assert.Equal([chain.Device.Certificate, chain.Intermediate.Certificate], report.DeviceMustSend);
        Assert.DoesNotContain(report.Findings, f => f.Code is "short-serial" or "basic-constraints-not-critical");
        Assert.True(OnlyExtension<X509BasicConstraintsExtension>(chain.Device.Certificate).Critical);
    }
}
