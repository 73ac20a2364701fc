using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CheeseCave.Pki;

/// <summary>
/// Checks that a certificate was signed by a given issuer key. Chain building would also succeed through a
/// different certificate with the same name, so proof of possession and chain order are checked on the signature itself.
/// </summary>
public static class SignatureVerifier
{
    public static bool IsSelfSigned(X509Certificate2 certificate) =>
        certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData) && IsSignedBy(certificate, certificate);

    public static bool IsSignedBy(X509Certificate2 certificate, X509Certificate2 issuer) =>
        IsSignedBy(certificate.RawData, issuer.PublicKey);

    public static bool IsSignedBy(ReadOnlySpan<byte> certificateDer, PublicKey issuerKey)
    {
        ReadOnlySpan<byte> tbs;
        string algorithm;
        byte[] signature;
        try
        {
            var reader = new AsnReader(certificateDer.ToArray(), AsnEncodingRules.DER);
            var certificate = reader.ReadSequence();
            tbs = certificate.ReadEncodedValue().Span;
            var algorithmIdentifier = certificate.ReadSequence();
            algorithm = algorithmIdentifier.ReadObjectIdentifier();
            signature = certificate.ReadBitString(out _);
        }
        catch (AsnContentException)
        {
            return false;
        }

        HashAlgorithmName? hash = algorithm switch
        {
            "1.2.840.10045.4.3.2" or "1.2.840.113549.1.1.11" => HashAlgorithmName.SHA256,
            "1.2.840.10045.4.3.3" or "1.2.840.113549.1.1.12" => HashAlgorithmName.SHA384,
            "1.2.840.10045.4.3.4" or "1.2.840.113549.1.1.13" => HashAlgorithmName.SHA512,
            "1.2.840.10045.4.1" or "1.2.840.113549.1.1.5" => HashAlgorithmName.SHA1,
            _ => null,
        };
        if (hash is null)
        {
            return false; // RSASSA-PSS and others: not used by DPS tooling, reported as "cannot confirm"
        }

        var isEcdsa = algorithm.StartsWith("1.2.840.10045.", StringComparison.Ordinal);
        try
        {
            if (isEcdsa)
            {
                using var ec = issuerKey.GetECDsaPublicKey();
                return ec is not null && ec.VerifyData(tbs, signature, hash.Value, DSASignatureFormat.Rfc3279DerSequence);
            }

            using var rsa = issuerKey.GetRSAPublicKey();
            return rsa is not null && rsa.VerifyData(tbs, signature, hash.Value, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The name of the signature algorithm, for display and lint (for example "ecdsa-with-SHA256").</summary>
    public static string SignatureAlgorithmName(X509Certificate2 certificate) =>
        certificate.SignatureAlgorithm.FriendlyName ?? certificate.SignatureAlgorithm.Value ?? "unknown";
}
