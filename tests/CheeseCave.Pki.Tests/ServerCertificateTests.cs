using System.Net;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

/// <summary>The TLS server profile the emulator uses for its own endpoints.</summary>
public sealed class ServerCertificateTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Server_certificate_has_server_auth_and_the_names_and_verifies_for_TLS()
    {
        var clock = RealClock();
        using var chain = new TestChain(clock);
        using var server = chain.Ca.IssueServerCertificate(
            new ServerCertificateRequest(["localhost", "dps.localtest"], [IPAddress.Loopback]), chain.IntermediateCredential);
        var c = server.Certificate;
        Assert.Equal(CertificateKind.Server, server.Kind);
        Assert.Equal("CN=localhost", c.Subject);
        Assert.Equal(
            new[] { BasicConstraintsOid, KeyUsageOid, ExtendedKeyUsageOid, SubjectAltNameOid, SubjectKeyIdentifierOid, AuthorityKeyIdentifierOid }.Order(StringComparer.Ordinal),
            ExtensionOids(c));
        Assert.False(OnlyExtension<X509BasicConstraintsExtension>(c).CertificateAuthority);
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], EkuOids(c));
        var san = OnlyExtension<X509SubjectAlternativeNameExtension>(c);
        Assert.Equal(["localhost", "dps.localtest"], san.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback], san.EnumerateIPAddresses());
        Assert.Equal(clock.GetUtcNow().AddDays(30), NotAfter(c));

        _temp.WritePem("root.pem", chain.Root.Certificate);
        _temp.WritePem("intermediate.pem", chain.Intermediate.Certificate);
        _temp.WritePem("server.pem", c);
        var verify = OpenSsl.TryRun(_temp.Path, "verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", "dps.localtest",
            "-CAfile", "root.pem", "-untrusted", "intermediate.pem", "server.pem");
        Assert.True(verify.Succeeded, verify.AllOutput);
        Assert.False(OpenSsl.TryRun(_temp.Path, "verify", "-purpose", "sslserver", "-verify_hostname", "other.example",
            "-CAfile", "root.pem", "-untrusted", "intermediate.pem", "server.pem").Succeeded);
        Assert.False(OpenSsl.TryRun(_temp.Path, "verify", "-purpose", "sslclient", "-CAfile", "root.pem", "-untrusted", "intermediate.pem", "server.pem").Succeeded);

        AssertFails(PkiErrorCode.InvalidInput,
            () => chain.Ca.IssueServerCertificate(new ServerCertificateRequest([], []), chain.IntermediateCredential), "host name");
    }
}
