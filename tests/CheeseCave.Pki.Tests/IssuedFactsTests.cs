using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki.Tests.Infrastructure;
using static CheeseCave.Pki.Tests.Infrastructure.TestPki;

namespace CheeseCave.Pki.Tests;

/// <summary>
/// A leaf the CA has just made answers its name, serial, issuer, validity and key type from what went into it,
/// without parsing itself back; those answers must be exactly what the parsed certificate says. The key type of a
/// public key is read from its encoding, not by importing the key.
/// </summary>
public sealed class IssuedFactsTests
{
    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256)]
    [InlineData(KeyAlgorithm.EcdsaP384)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public void A_new_device_certificate_s_facts_equal_the_parsed_certificate_s(KeyAlgorithm algorithm)
    {
        // A clock with a fraction of a second: the certificate keeps whole seconds, and so must the facts.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(FixedNow.AddMilliseconds(987));
        using var chain = new TestChain(clock, keyAlgorithm: algorithm);
        using var csrKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=csr-device-7", csrKey, HashAlgorithmName.SHA256).CreateSigningRequest();
        using var fromCsr = chain.Ca.SignCsr(new CsrSigningRequest(csr), chain.IntermediateCredential);

        foreach (var (issued, cn, keyType) in new[] { (chain.Device, "device-01", algorithm), (fromCsr, "csr-device-7", KeyAlgorithm.EcdsaP256) })
        {
            var facts = (issued.CommonName, issued.SerialNumber, issued.IssuerName, issued.NotBefore, issued.NotAfter, issued.SubjectKeyAlgorithm);
            using var parsed = X509CertificateLoader.LoadCertificate(issued.RawData.Span);
            Assert.Equal(
                (cn, parsed.SerialNumber, parsed.Issuer, new DateTimeOffset(parsed.NotBefore.ToUniversalTime()), new DateTimeOffset(parsed.NotAfter.ToUniversalTime()), keyType),
                facts);
            Assert.Equal(0, issued.NotBefore.Millisecond);
        }
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256)]
    [InlineData(KeyAlgorithm.EcdsaP384)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    [InlineData(KeyAlgorithm.Rsa3072)]
    [InlineData(KeyAlgorithm.Rsa4096)]
    public void The_key_type_is_read_from_the_encoded_key(KeyAlgorithm algorithm)
    {
        using var key = PrivateKey.Generate(algorithm);
        Assert.Equal(algorithm, KeyAlgorithms.FromPublicKey(key.PublicKey));
    }

    [Fact]
    public void A_key_with_explicit_curve_parameters_is_refused_in_plain_words()
    {
        using var named = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var explicitCurve = ECDsa.Create(named.ExportExplicitParameters(includePrivateParameters: false));
        var key = PublicKey.CreateFromSubjectPublicKeyInfo(explicitCurve.ExportSubjectPublicKeyInfo(), out _);

        var error = Assert.Throws<PkiException>(() => KeyAlgorithms.FromPublicKey(key));
        Assert.Equal(PkiErrorCode.UnsupportedKey, error.Code);
        Assert.Contains("explicit curve parameters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_rsa_key_of_an_odd_size_is_named_by_its_size()
    {
        using var rsa = RSA.Create(2304);
        var key = PublicKey.CreateFromSubjectPublicKeyInfo(rsa.ExportSubjectPublicKeyInfo(), out _);

        var error = Assert.Throws<PkiException>(() => KeyAlgorithms.FromPublicKey(key));
        Assert.Contains("RSA-2304", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_a_generated_passphrase_counts_as_generated()
    {
        Assert.True(Passphrases.IsGenerated(Passphrases.Generate()));
        Assert.False(Passphrases.IsGenerated("correct horse battery staple"));
        Assert.False(Passphrases.IsGenerated(new string('a', 43)));
        Assert.False(Passphrases.IsGenerated(Passphrases.Generate() + "x"));
        Assert.Throws<ArgumentException>(() => new BatchEncryption("correct horse battery staple", generatedPassphrase: true));
    }
}
