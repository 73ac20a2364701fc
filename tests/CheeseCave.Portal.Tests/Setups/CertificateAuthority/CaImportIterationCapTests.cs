using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Setups.CertificateAuthority;

namespace CheeseCave.Portal.Tests.Setups.CertificateAuthority;

public sealed class CaImportIterationCapTests
{
    [Fact]
    public void A_CA_key_encrypted_with_too_many_iterations_is_refused_with_what_to_do()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Imported CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddYears(1));
        var keyPem = key.ExportEncryptedPkcs8PrivateKeyPem("the key passphrase",
            new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, KeyDerivationLimits.MaxIterations + 1));

        using var material = CaImportReader.Read(new CaImportRequest(Encoding.UTF8.GetBytes(certificate.ExportCertificatePem()))
        {
            PrivateKeyPem = Encoding.UTF8.GetBytes(keyPem),
            KeyPassphrase = "the key passphrase",
        }, out var error);

        Assert.Null(material);
        Assert.NotNull(error);
        Assert.Contains("1,000,001 key-derivation iterations", error.Message, StringComparison.Ordinal);
        Assert.Contains("fewer iterations", error.WhatToDo, StringComparison.Ordinal);
    }
}
