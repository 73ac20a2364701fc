using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CheeseCave.Pki.Tests;

/// <summary>An imported encrypted key or PFX cannot make the server derive keys for minutes: the iteration count is capped.</summary>
public sealed class KeyDerivationLimitsTests
{
    private const string Passphrase = "a long import passphrase";

    [Theory]
    [InlineData(30_000_000L)] // about a minute of a core before the cap
    [InlineData(int.MaxValue)] // what the format allows
    public void An_encrypted_key_over_the_cap_is_refused_before_any_work(long iterations)
    {
        var pem = EncryptedKeyPem(iterations);

        var refused = Assert.Throws<PkiException>(() => PrivateKey.ImportPem(pem, Passphrase));

        Assert.Equal(PkiErrorCode.TooManyIterations, refused.Code);
        Assert.Contains(iterations.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), refused.Message, StringComparison.Ordinal);
        Assert.Contains("at most 1,000,000", refused.Message, StringComparison.Ordinal);
        Assert.Contains("openssl pkcs8", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_file_with_an_over_the_cap_key_is_refused_too()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=capped", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        var file = CertificateExport.ToPem(certificate) + EncryptedKeyPem(int.MaxValue);

        var refused = Assert.Throws<PkiException>(() => CertificateReader.Read(Encoding.UTF8.GetBytes(file), Passphrase));

        Assert.Equal(PkiErrorCode.TooManyIterations, refused.Code);
    }

    [Fact]
    public void A_PFX_over_the_cap_is_refused_with_a_clear_message()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=capped pfx", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        var contents = new Pkcs12SafeContents();
        contents.AddCertificate(certificate);
        contents.AddShroudedKey(key, Passphrase, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, KeyDerivationLimits.MaxIterations + 1));
        var builder = new Pkcs12Builder();
        builder.AddSafeContentsUnencrypted(contents);
        builder.SealWithMac(Passphrase, HashAlgorithmName.SHA256, 2048);

        var refused = Assert.Throws<PkiException>(() => CertificateReader.Read(builder.Encode(), Passphrase));

        Assert.Equal(PkiErrorCode.TooManyIterations, refused.Code);
        Assert.Contains("at most 1,000,000", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public void Keys_under_the_cap_read_and_a_wrong_passphrase_says_so(KeyAlgorithm algorithm)
    {
        using var key = PrivateKey.Generate(algorithm);
        var pem = key.ExportEncryptedPem(Passphrase, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 2048));

        using var read = PrivateKey.ImportPem(pem, Passphrase);
        Assert.Equal(algorithm, read.Algorithm);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), read.ExportSubjectPublicKeyInfo());

        var wrong = Assert.Throws<PkiException>(() => PrivateKey.ImportPem(pem, "not the passphrase"));
        Assert.Equal(PkiErrorCode.WrongPassphrase, wrong.Code);
    }

    [Fact]
    public void A_cancelled_import_stops_before_decrypting()
    {
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var pem = key.ExportEncryptedPem(Passphrase);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Throws<OperationCanceledException>(() => PrivateKey.ImportPem(pem, Passphrase, cancelled.Token));
        Assert.Throws<OperationCanceledException>(() => CertificateReader.Read(Encoding.UTF8.GetBytes(pem), Passphrase, cancelled.Token));
    }

    [Fact]
    public void The_iteration_count_is_read_from_PBES2_and_PKCS12_schemes()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pbes2 = key.ExportEncryptedPkcs8PrivateKey(Passphrase, new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1234));
        var pkcs12 = key.ExportEncryptedPkcs8PrivateKey(Passphrase, new PbeParameters(PbeEncryptionAlgorithm.TripleDes3KeyPkcs12, HashAlgorithmName.SHA1, 4321));

        Assert.Equal(1234, KeyDerivationLimits.IterationCount(pbes2));
        Assert.Equal(4321, KeyDerivationLimits.IterationCount(pkcs12));
        Assert.Null(KeyDerivationLimits.IterationCount(new byte[] { 0x30, 0x03, 0x02, 0x01, 0x00 }));
    }

    /// <summary>A PBES2/PBKDF2 EncryptedPrivateKeyInfo asking for <paramref name="iterations"/> (its ciphertext is noise: it is never reached).</summary>
    internal static string EncryptedKeyPem(long iterations)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.113549.1.5.13"); // PBES2
                using (writer.PushSequence())
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier("1.2.840.113549.1.5.12"); // PBKDF2
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(RandomNumberGenerator.GetBytes(16));
                            writer.WriteInteger(iterations);
                            using (writer.PushSequence())
                            {
                                writer.WriteObjectIdentifier("1.2.840.113549.2.9"); // HMAC-SHA256
                                writer.WriteNull();
                            }
                        }
                    }

                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier("2.16.840.1.101.3.4.1.42"); // AES-256-CBC
                        writer.WriteOctetString(RandomNumberGenerator.GetBytes(16));
                    }
                }
            }

            writer.WriteOctetString(RandomNumberGenerator.GetBytes(64));
        }

        return new string(PemEncoding.Write(PemLabels.EncryptedPrivateKey, writer.Encode()));
    }
}
