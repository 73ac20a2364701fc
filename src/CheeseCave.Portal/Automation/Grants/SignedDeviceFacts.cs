using System.Formats.Asn1;
using System.Security.Cryptography;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Automation.Grants;

/// <summary>
/// The inventory facts of a certificate signed under a grant, the same values <see cref="CertificateFacts.Fill(SetupDevice, System.Security.Cryptography.X509Certificates.X509Certificate2)"/>
/// stores, taken the cheap way because this runs for every CSR: the PEM texts the CA already encoded, the SHA-256
/// thumbprint hashed from the DER, and the key type read from the key's algorithm identifier (turning the key into an ECDsa
/// object, as the general path does, validates the point: as costly as verifying a signature).
/// </summary>
internal static class SignedDeviceFacts
{
    private const string EcPublicKey = "1.2.840.10045.2.1";

    public static void Fill(SetupDevice device, IssuedCertificate issued)
    {
        var certificate = issued.Certificate;
        var raw = issued.RawData.Span;
        device.Issuer = certificate.Issuer;
        device.SerialNumber = certificate.SerialNumber;
        device.KeyType = EcKeyType(certificate.PublicKey) ?? CertificateFacts.KeyTypeOf(certificate);
        device.ThumbprintSha1 = certificate.Thumbprint; // SHA-1 is the name DPS and the portal show, not a security check
        device.ThumbprintSha256 = Convert.ToHexString(SHA256.HashData(raw));
        device.NotBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        device.NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        device.CertificatePem = issued.CertificatePem;
        device.ChainPem = issued.DeviceChainPem;
    }

    /// <summary>"ECDSA P-256" for the named curves the portal accepts; null for anything else (the general path answers).</summary>
    internal static string? EcKeyType(System.Security.Cryptography.X509Certificates.PublicKey key)
    {
        if (key.Oid.Value != EcPublicKey || key.EncodedParameters?.RawData is not { Length: > 0 } parameters)
        {
            return null;
        }

        try
        {
            return AsnDecoder.ReadObjectIdentifier(parameters, AsnEncodingRules.DER, out _) switch
            {
                "1.2.840.10045.3.1.7" => "ECDSA P-256",
                "1.3.132.0.34" => "ECDSA P-384",
                "1.3.132.0.35" => "ECDSA P-521",
                _ => null,
            };
        }
        catch (AsnContentException)
        {
            return null;
        }
    }
}
