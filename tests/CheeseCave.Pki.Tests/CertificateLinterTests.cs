using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

/// <summary>The DPS readiness linter on good chains, on chains in the wrong order, and on the certificates people actually bring.</summary>
public sealed class CertificateLinterTests : IDisposable
{
    private readonly TestChain _chain = new(FixedClock());
    private readonly TempFolder _temp = new();

    public void Dispose()
    {
        _chain.Dispose();
        _temp.Dispose();
    }

    private static FakeTimeProvider At(DateTimeOffset when) => new(when);

    /// <summary>
    /// A 30-day certificate linted in the second it was made has exactly 30 days left, which is not yet "soon";
    /// a minute later it is, whatever second openssl wrote.
    /// </summary>
    private static FakeTimeProvider OneMinuteLater()
    {
        var clock = RealClock();
        clock.Advance(TimeSpan.FromMinutes(1));
        return clock;
    }

    private static string[] Codes(LintReport report, FindingSeverity? severity = null) =>
        [.. report.Findings.Where(f => severity is null || f.Severity == severity).Select(f => f.Code)];

    [Fact]
    public void Good_device_chain_has_no_problems_and_the_device_sends_leaf_and_intermediate()
    {
        var report = CertificateLinter.Lint([_chain.Device.Certificate, _chain.Intermediate.Certificate, _chain.Root.Certificate], At(FixedNow), "device-01");
        Assert.False(report.HasErrors);
        Assert.DoesNotContain(report.Findings, f => f.Severity != FindingSeverity.Info);
        Assert.False(report.IsCaBundle);
        Assert.Equal([_chain.Device.Certificate, _chain.Intermediate.Certificate, _chain.Root.Certificate], report.OrderedChain);
        Assert.Equal([_chain.Device.Certificate, _chain.Intermediate.Certificate], report.DeviceMustSend);
        var mustSend = Assert.Single(report.Findings, f => f.Code == "device-must-send");
        Assert.Contains("need not be sent", mustSend.Message, StringComparison.Ordinal);
        Assert.Contains("401002", mustSend.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reversed_order_is_reported_and_the_chain_is_still_worked_out()
    {
        var report = CertificateLinter.Lint([_chain.Root.Certificate, _chain.Intermediate.Certificate, _chain.Device.Certificate], At(FixedNow));
        var finding = Assert.Single(report.Findings, f => f.Code == "chain-order");
        Assert.Equal(FindingSeverity.Warning, finding.Severity);
        Assert.Contains("'device-01' -> 'CheeseCave Test Intermediate' -> 'CheeseCave Test Root'", finding.Message, StringComparison.Ordinal);
        Assert.Equal([_chain.Device.Certificate, _chain.Intermediate.Certificate, _chain.Root.Certificate], report.OrderedChain);
        Assert.Equal([_chain.Device.Certificate, _chain.Intermediate.Certificate], report.DeviceMustSend);
        Assert.False(report.HasErrors);
    }

    [Fact]
    public void CA_bundle_is_recognised_and_missing_issuers_are_named()
    {
        var bundle = CertificateLinter.Lint([_chain.Intermediate.Certificate, _chain.Root.Certificate], At(FixedNow));
        Assert.True(bundle.IsCaBundle);
        Assert.Empty(bundle.DeviceMustSend);
        Assert.Empty(bundle.Findings);

        var noRoot = CertificateLinter.Lint([_chain.Device.Certificate, _chain.Intermediate.Certificate], At(FixedNow));
        Assert.Contains("issuer-not-included", Codes(noRoot, FindingSeverity.Info));
        Assert.Equal([_chain.Device.Certificate, _chain.Intermediate.Certificate], noRoot.DeviceMustSend);

        using var stranger = _chain.Ca.CreateRoot(new RootCaRequest("Stranger Root"));
        var stray = CertificateLinter.Lint([_chain.Device.Certificate, _chain.Intermediate.Certificate, _chain.Root.Certificate, stranger.Certificate], At(FixedNow));
        Assert.Equal("Stranger Root", SubjectNames.GetCommonName(new X500DistinguishedName(Assert.Single(stray.Findings, f => f.Code == "not-in-chain").Subject!)));

        Assert.Equal(["empty"], Codes(CertificateLinter.Lint([], At(FixedNow)), FindingSeverity.Error));
    }

    [Fact]
    public void CertGen_like_OpenSSL_certificate_gets_short_serial_and_the_related_warnings()
    {
        // certGen.sh style: serial 01 (its "serial" file), 30 days, no EKU; made as a self-signed leaf.
        _temp.Write("leaf.cnf", """
            [req]
            distinguished_name = dn
            x509_extensions = leaf
            prompt = no
            [dn]
            CN = new-device
            [leaf]
            basicConstraints = CA:FALSE
            subjectKeyIdentifier = hash
            keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment
            """);
        OpenSsl.Run(_temp.Path, "req", "-x509", "-config", "leaf.cnf", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key",
            "-out", "leaf.pem", "-days", "30", "-set_serial", "1", "-sha256");
        using var read = CertificateReader.Read(_temp.ReadBytes("leaf.pem"));
        var report = CertificateLinter.Lint(read.Certificates, OneMinuteLater());

        var shortSerial = Assert.Single(report.Findings, f => f.Code == "short-serial");
        Assert.Equal(FindingSeverity.Warning, shortSerial.Severity);
        Assert.Contains("8-bit serial", shortSerial.Message, StringComparison.Ordinal);
        Assert.Contains("expires-soon", Codes(report, FindingSeverity.Warning));
        Assert.Contains("no-eku", Codes(report, FindingSeverity.Warning));
        Assert.Contains("self-signed-device", Codes(report, FindingSeverity.Warning));
        Assert.False(report.HasErrors, string.Join("\n", report.Findings));

        // And the certGen-like root (openssl's default v3_ca section) is a CA bundle with the same serial complaint.
        OpenSsl.Run(_temp.Path, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.pem",
            "-days", "30", "-set_serial", "1", "-subj", "/CN=Azure IoT Hub CA Cert Test Only");
        using var root = CertificateReader.Read(_temp.ReadBytes("root.pem"));
        var rootReport = CertificateLinter.Lint(root.Certificates, OneMinuteLater());
        Assert.True(rootReport.IsCaBundle);
        Assert.Contains("short-serial", Codes(rootReport, FindingSeverity.Warning));
        Assert.Contains("expires-soon", Codes(rootReport, FindingSeverity.Warning));
    }

    [Fact]
    public void Expiry_is_reported_against_the_given_clock()
    {
        var chain = new[] { _chain.Device.Certificate, _chain.Intermediate.Certificate, _chain.Root.Certificate };
        var clock = FixedClock();
        clock.Advance(TimeSpan.FromDays(340));
        var soon = CertificateLinter.Lint(chain, clock);
        Assert.Equal(_chain.Device.Certificate.Subject, Assert.Single(soon.Findings, f => f.Code == "expires-soon").Subject);
        Assert.False(soon.HasErrors);

        clock.Advance(TimeSpan.FromDays(26));
        var expired = CertificateLinter.Lint(chain, clock);
        var finding = Assert.Single(expired.Findings, f => f.Code == "expired");
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Equal(_chain.Device.Certificate.Subject, finding.Subject);
        Assert.True(expired.HasErrors);

        var early = CertificateLinter.Lint(chain, At(FixedNow - TimeSpan.FromHours(1)));
        Assert.Equal(3, early.Findings.Count(f => f.Code == "not-yet-valid"));
    }

    [Fact]
    public void Leaf_with_CA_true_under_a_path_length_zero_intermediate_exceeds_the_path_length()
    {
        using var leafCa = HandMade("CN=device-7", _chain.Intermediate, isCa: true, At(FixedNow));
        var report = CertificateLinter.Lint([leafCa, _chain.Intermediate.Certificate, _chain.Root.Certificate], At(FixedNow));
        var finding = Assert.Single(report.Findings, f => f.Code == "path-length-exceeded");
        Assert.Equal(_chain.Intermediate.Certificate.Subject, finding.Subject);
        Assert.True(report.HasErrors);
    }

    [Fact]
    public void Leaf_with_CA_true_is_an_error_when_it_is_meant_as_a_device()
    {
        using var leafCa = HandMade("CN=device-7", _chain.Intermediate, isCa: true, At(FixedNow));
        var report = CertificateLinter.Lint([leafCa, _chain.Intermediate.Certificate, _chain.Root.Certificate], At(FixedNow), "device-7");
        var finding = Assert.Single(report.Findings, f => f.Code == "leaf-is-ca");
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        AssertOneLine(finding.Message);
        Assert.False(report.IsCaBundle);
        Assert.Equal([leafCa, _chain.Intermediate.Certificate], report.DeviceMustSend);
        Assert.DoesNotContain("path-length-exceeded", Codes(report));

        // The classic mistake: the root itself used as the device certificate.
        var rootAsDevice = CertificateLinter.Lint([_chain.Root.Certificate], At(FixedNow), "cheesecave-test-root");
        Assert.Contains("leaf-is-ca", Codes(rootAsDevice, FindingSeverity.Error));
        Assert.Contains("cn-mismatch", Codes(rootAsDevice, FindingSeverity.Error));
        Assert.Contains("self-signed-device", Codes(rootAsDevice, FindingSeverity.Warning));
    }

    [Fact]
    public void Device_common_name_that_is_no_registration_id_is_an_error()
    {
        using var device = HandMade("CN=Device 1", _chain.Intermediate, isCa: false, At(FixedNow));
        var report = CertificateLinter.Lint([device, _chain.Intermediate.Certificate, _chain.Root.Certificate], At(FixedNow));
        var finding = Assert.Single(report.Findings, f => f.Code == "cn-not-registration-id");
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Contains("a space", finding.Message, StringComparison.Ordinal);
        Assert.Contains("cn-upper-case", Codes(report, FindingSeverity.Warning));

        using var noCn = HandMade("O=Contoso, OU=Devices", _chain.Intermediate, isCa: false, At(FixedNow));
        Assert.Contains("no-cn", Codes(CertificateLinter.Lint([noCn, _chain.Intermediate.Certificate], At(FixedNow)), FindingSeverity.Error));

        using var noEku = HandMade("CN=no-eku-device", _chain.Intermediate, isCa: false, At(FixedNow), withClientAuth: false);
        Assert.Contains("no-eku", Codes(CertificateLinter.Lint([noEku, _chain.Intermediate.Certificate], At(FixedNow)), FindingSeverity.Warning));
    }

    [Fact]
    public void Expected_registration_id_must_equal_the_CN()
    {
        var chain = new[] { _chain.Device.Certificate, _chain.Intermediate.Certificate };
        var mismatch = CertificateLinter.Lint(chain, At(FixedNow), "device-02");
        var finding = Assert.Single(mismatch.Findings, f => f.Code == "cn-mismatch");
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Contains("'device-01'", finding.Message, StringComparison.Ordinal);
        Assert.Contains("'device-02'", finding.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("cn-mismatch", Codes(CertificateLinter.Lint(chain, At(FixedNow), "device-01")));
    }

    [Fact]
    public void Version_one_certificate_from_OpenSSL_is_an_error()
    {
        OpenSsl.Run(_temp.Path, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "v1.key");
        OpenSsl.Run(_temp.Path, "req", "-new", "-key", "v1.key", "-subj", "/CN=v1-device", "-out", "v1.csr");
        OpenSsl.Run(_temp.Path, "x509", "-req", "-in", "v1.csr", "-signkey", "v1.key", "-days", "5", "-out", "v1.pem");
        Assert.Contains("Version: 1 (0x0)", OpenSsl.Text(_temp.Path, "v1.pem"), StringComparison.Ordinal);

        using var read = CertificateReader.Read(_temp.ReadBytes("v1.pem"));
        var report = CertificateLinter.Lint(read.Certificates, RealClock());
        Assert.Equal(FindingSeverity.Error, Assert.Single(report.Findings, f => f.Code == "v1-certificate").Severity);
        Assert.Contains("no-ski", Codes(report, FindingSeverity.Warning));
        Assert.True(report.HasErrors);
    }

    [Fact]
    public void Intermediate_named_like_its_issuer_is_warned()
    {
        using var twin = HandMade("CN=CheeseCave Test Root", _chain.Root, isCa: true, At(FixedNow));
        var report = CertificateLinter.Lint([twin, _chain.Root.Certificate], At(FixedNow));
        Assert.True(report.IsCaBundle);
        Assert.Contains("same-cn-as-issuer", Codes(report, FindingSeverity.Warning));
    }

    [Fact]
    public void Findings_print_as_one_line_each()
    {
        using var device = HandMade("CN=Device 1", _chain.Intermediate, isCa: false, At(FixedNow));
        var report = CertificateLinter.Lint([_chain.Root.Certificate, device, _chain.Intermediate.Certificate], At(FixedNow + TimeSpan.FromDays(400)), "device-1");
        Assert.NotEmpty(report.Findings);
        foreach (var finding in report.Findings)
        {
            AssertOneLine(finding.ToString());
            Assert.StartsWith(finding.Severity.ToString().ToUpperInvariant() + ": ", finding.ToString(), StringComparison.Ordinal);
        }
    }
}
