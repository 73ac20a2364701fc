using System.Security.Cryptography;
using System.Text;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

/// <summary>Every form users hold certificates in reads back to the same certificates, in file order, with the key when there is one.</summary>
public sealed class CertificateReaderTests : IDisposable
{
    private const string Password = "pfx password 1234";
    private readonly TestChain _chain = new(FixedClock());
    private readonly TempFolder _temp = new();

    public void Dispose()
    {
        _chain.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public void PEM_with_several_certificates_keeps_the_file_order()
    {
        var leafFirst = new[] { _chain.Device.Certificate, _chain.Intermediate.Certificate, _chain.Root.Certificate };
        using var read = CertificateReader.Read(Encoding.UTF8.GetBytes(CertificateExport.ToPem(leafFirst)));
        Assert.Equal(CertificateFormat.Pem, read.Format);
        Assert.Null(read.Key);
        Assert.Equal(leafFirst.Select(c => c.Thumbprint), read.Certificates.Select(c => c.Thumbprint));

        // Reversed stays reversed: the reader reports what the file holds, the linter judges the order.
        var rootFirst = leafFirst.Reverse().ToArray();
        using var reversed = CertificateReader.Read(Encoding.UTF8.GetBytes("Bag Attributes: ignored text\r\n" + CertificateExport.ToPem(rootFirst).Replace("\n", "\r\n", StringComparison.Ordinal)));
        Assert.Equal(rootFirst.Select(c => c.Thumbprint), reversed.Certificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void DER_reads_back()
    {
        using var read = CertificateReader.Read(CertificateExport.ToDer(_chain.Device.Certificate));
        Assert.Equal(CertificateFormat.Der, read.Format);
        Assert.Equal(_chain.Device.Certificate.RawData, Assert.Single(read.Certificates).RawData);
    }

    [Fact]
    public void Base64_without_headers_reads_back()
    {
        var base64 = Convert.ToBase64String(_chain.Device.Certificate.RawData, Base64FormattingOptions.InsertLineBreaks) + "\n";
        using var read = CertificateReader.Read(Encoding.ASCII.GetBytes(base64));
        Assert.Equal(CertificateFormat.Base64, read.Format);
        Assert.Equal(_chain.Device.Certificate.RawData, Assert.Single(read.Certificates).RawData);
    }

    [Theory]
    [InlineData(PfxEncryption.Modern)]
    [InlineData(PfxEncryption.LegacyCompatible)]
    public void PFX_reads_back_with_its_key_and_chain(PfxEncryption encryption)
    {
        var pfx = CertificateExport.ToPfx(_chain.Device, Password, encryption);
        using var read = CertificateReader.Read(pfx, Password);
        Assert.Equal(CertificateFormat.Pfx, read.Format);
        Assert.Equal(3, read.Certificates.Count);
        Assert.Equal(_chain.Device.Certificate.Thumbprint, read.Certificates[0].Thumbprint); // the keyed certificate comes first
        Assert.Equal(
            new[] { _chain.Intermediate.Certificate.Thumbprint, _chain.Root.Certificate.Thumbprint }.Order(StringComparer.Ordinal),
            read.Certificates.Skip(1).Select(c => c.Thumbprint).Order(StringComparer.Ordinal));
        Assert.NotNull(read.Key);
        Assert.True(read.Key!.Matches(_chain.Device.Certificate));
        Assert.False(read.Key.Matches(_chain.Intermediate.Certificate));
        Assert.Equal(KeyAlgorithm.EcdsaP256, read.Key.Algorithm);

        // The key that came back can sign: issue with it and check the signature.
        using var credential = CaCredential.Create(_chain.Root.Certificate, CertificateReader.Read(CertificateExport.ToPfx(_chain.Root, Password), Password).Key!);
        using var issued = _chain.Ca.IssueDeviceCertificate(new DeviceCertificateRequest("from-pfx-key"), credential);
        Assert.True(SignatureVerifier.IsSignedBy(issued.Certificate, _chain.Root.Certificate));

        // A PFX pasted as base64 is still a PFX.
        using var fromBase64 = CertificateReader.Read(Encoding.ASCII.GetBytes(Convert.ToBase64String(pfx)), Password);
        Assert.Equal(CertificateFormat.Pfx, fromBase64.Format);
        Assert.NotNull(fromBase64.Key);
    }

    [Fact]
    public void PFX_written_by_OpenSSL_reads_back()
    {
        using var rsaChain = new TestChain(FixedClock(), keyAlgorithm: KeyAlgorithm.Rsa2048);
        _temp.Write("device.pem", CertificateExport.ToPem(rsaChain.Device.Certificate));
        _temp.Write("chain.pem", CertificateExport.ToPem([rsaChain.Intermediate.Certificate, rsaChain.Root.Certificate]));
        _temp.Write("device.key", rsaChain.Device.Key!.ExportUnencryptedPem(iUnderstandTheKeyIsNotProtected: true));
        _temp.Write("pass.txt", Password + "\n");
        OpenSsl.Run(_temp.Path, "pkcs12", "-export", "-in", "device.pem", "-inkey", "device.key", "-certfile", "chain.pem", "-passout", "file:pass.txt", "-out", "device.pfx");
        using var read = CertificateReader.Read(_temp.ReadBytes("device.pfx"), Password);
        Assert.Equal(3, read.Certificates.Count);
        Assert.Equal(rsaChain.Device.Certificate.Thumbprint, read.Certificates[0].Thumbprint);
        Assert.True(read.Key!.Matches(rsaChain.Device.Certificate));
        Assert.Equal(KeyAlgorithm.Rsa2048, read.Key.Algorithm);
    }

    [Fact]
    public void PEM_with_certificate_and_encrypted_key_reads_back()
    {
        var pem = CertificateExport.ToPem(_chain.Device.Certificate) + _chain.Device.Key!.ExportEncryptedPem(Password) + "\n"
            + CertificateExport.ToPem(_chain.Intermediate.Certificate);
        using var read = CertificateReader.Read(Encoding.UTF8.GetBytes(pem), Password);
        Assert.Equal(CertificateFormat.Pem, read.Format);
        Assert.Equal([_chain.Device.Certificate.Thumbprint, _chain.Intermediate.Certificate.Thumbprint], read.Certificates.Select(c => c.Thumbprint));
        Assert.True(read.Key!.Matches(_chain.Device.Certificate));

        AssertFails(PkiErrorCode.WrongPassphrase, () => CertificateReader.Read(Encoding.UTF8.GetBytes(pem), "not it"));
        AssertFails(PkiErrorCode.UnreadableKey,
            () => CertificateReader.Read(Encoding.UTF8.GetBytes(pem + _chain.Root.Key!.ExportEncryptedPem(Password)), Password), "more than one private key");
        AssertFails(PkiErrorCode.UnreadableCertificate,
            () => CertificateReader.Read(Encoding.UTF8.GetBytes(_chain.Device.Key.ExportEncryptedPem(Password)), Password), "no certificate");
    }

    public static TheoryData<string, string[]> OpenSslKeyFormats() => new()
    {
        { "PKCS#1 RSA (BEGIN RSA PRIVATE KEY)", ["genrsa", "-traditional", "-out", "key.pem", "2048"] },
        { "PKCS#8 RSA (BEGIN PRIVATE KEY)", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem"] },
        { "SEC1 EC (BEGIN EC PRIVATE KEY)", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem"] },
        { "PKCS#8 EC (BEGIN PRIVATE KEY)", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "key.pem"] },
    };

    [Theory]
    [MemberData(nameof(OpenSslKeyFormats))]
    public void Unencrypted_keys_written_by_OpenSSL_are_read(string format, string[] generate)
    {
        OpenSsl.Run(_temp.Path, generate);
        OpenSsl.Run(_temp.Path, "req", "-new", "-x509", "-key", "key.pem", "-subj", "/CN=openssl-key", "-days", "2", "-out", "cert.pem");
        var keyPem = _temp.Read("key.pem");
        using var key = PrivateKey.ImportPem(keyPem, null);
        using var read = CertificateReader.Read(Encoding.UTF8.GetBytes(_temp.Read("cert.pem") + keyPem));
        Assert.True(key.Matches(read.Certificates[0]), format);
        Assert.True(read.Key!.Matches(read.Certificates[0]), format);
    }

    [Fact]
    public void Exported_keys_round_trip()
    {
        using var rsa = PrivateKey.Generate(KeyAlgorithm.Rsa2048);
        foreach (var key in new[] { _chain.Device.Key!, rsa })
        {
            using var fromEncrypted = PrivateKey.ImportPem(key.ExportEncryptedPem(Password), Password);
            using var fromClear = PrivateKey.ImportPem(key.ExportUnencryptedPem(true), null);
            using var fromPkcs8 = PrivateKey.ImportPkcs8(key.ExportPkcs8ForProtectedStore());
            foreach (var copy in new[] { fromEncrypted, fromClear, fromPkcs8 })
            {
                Assert.Equal(key.Algorithm, copy.Algorithm);
                Assert.Equal(key.PublicKey.ExportSubjectPublicKeyInfo(), copy.PublicKey.ExportSubjectPublicKeyInfo());
            }
        }

        AssertFails(PkiErrorCode.UnreadableKey, () => PrivateKey.ImportPkcs8([0x30, 0x03, 0x02, 0x01, 0x00]));
        using var dsaLike = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        AssertFails(PkiErrorCode.UnsupportedKey, () => PrivateKey.FromAlgorithm(dsaLike), "P-256");
    }
}
