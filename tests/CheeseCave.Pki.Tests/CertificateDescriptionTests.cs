using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

public sealed class CertificateDescriptionTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public void Thumbprints_match_OpenSSL_fingerprints(KeyAlgorithm algorithm)
    {
        using var chain = new TestChain(FixedClock(), keyAlgorithm: algorithm);
        foreach (var (name, certificate) in new[] { ("root.pem", chain.Root.Certificate), ("device.pem", chain.Device.Certificate) })
        {
            _temp.WritePem(name, certificate);
            var description = CertificateDescription.Of(certificate);
            Assert.Equal(OpenSslFingerprint(name, "-sha1"), description.ThumbprintSha1);
            Assert.Equal(OpenSslFingerprint(name, "-sha256"), description.ThumbprintSha256);
            Assert.Equal(40, description.ThumbprintSha1.Length);
            Assert.Equal(64, description.ThumbprintSha256.Length);
        }
    }

    [Fact]
    public void Description_shows_the_decoded_facts()
    {
        using var chain = new TestChain(FixedClock());
        var intermediate = CertificateDescription.Of(chain.Intermediate.Certificate);
        Assert.True(intermediate.IsCa);
        Assert.Equal(0, intermediate.PathLength);
        Assert.False(intermediate.IsSelfSigned);
        Assert.Equal("CheeseCave Test Intermediate", intermediate.CommonName);
        Assert.StartsWith("ECDSA P-256 ", intermediate.KeyDescription, StringComparison.Ordinal);
        Assert.EndsWith("(256 bits)", intermediate.KeyDescription, StringComparison.Ordinal);
        Assert.Equal(CertificateDescription.Of(chain.Root.Certificate).SubjectKeyIdentifier, intermediate.AuthorityKeyIdentifier);
        Assert.Equal(chain.Intermediate.Certificate.SerialNumber, intermediate.SerialNumberHex);

        var device = CertificateDescription.Of(chain.Device.Certificate);
        Assert.False(device.IsCa);
        Assert.Null(device.PathLength);
        Assert.Contains("Client Authentication", device.ExtendedKeyUsages, StringComparison.Ordinal); // "TLS Web Client Authentication" on Linux
        Assert.Equal(FixedNow - TimeSpan.FromMinutes(5), device.NotBefore);

        var text = device.ToText(FixedClock());
        Assert.Contains(device.ThumbprintSha1 + "   (what DPS shows)", text, StringComparison.Ordinal);
        Assert.Contains(device.ThumbprintSha256 + "   (what IoT Hub shows)", text, StringComparison.Ordinal);
        Assert.Contains("expires in 365 days", text, StringComparison.Ordinal);
        Assert.Contains("(self-signed)", CertificateDescription.Of(chain.Root.Certificate).ToText(FixedClock()), StringComparison.Ordinal);
    }

    private string OpenSslFingerprint(string file, string digest)
    {
        // "sha1 Fingerprint=AB:CD:..." (the prefix differs between versions; the value after '=' does not)
        var line = OpenSsl.Run(_temp.Path, "x509", "-in", file, "-noout", "-fingerprint", digest).Trim();
        return line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Replace(":", string.Empty, StringComparison.Ordinal);
    }
}
