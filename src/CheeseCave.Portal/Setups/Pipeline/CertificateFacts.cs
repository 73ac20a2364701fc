using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;

namespace CheeseCave.Portal.Setups.Pipeline;

/// <summary>
/// The inventory facts of a certificate, read from the certificate itself so every place that records one (CA
/// generation, import, device issuance, renewal, CSR signing) records the same thing.
/// </summary>
public static class CertificateFacts
{
    public static void Fill(SetupCertificate entity, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(certificate);
        entity.Subject = certificate.Subject;
        entity.Issuer = certificate.Issuer;
        entity.SerialNumber = certificate.SerialNumber;
        entity.KeyType = KeyTypeOf(certificate);
        entity.ThumbprintSha1 = certificate.Thumbprint;
        entity.ThumbprintSha256 = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        entity.NotBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        entity.NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        entity.Pem = CertificateExport.ToPem(certificate);
    }

    public static void Fill(SetupDevice entity, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(certificate);
        entity.Issuer = certificate.Issuer;
        entity.SerialNumber = certificate.SerialNumber;
        entity.KeyType = KeyTypeOf(certificate);
        entity.ThumbprintSha1 = certificate.Thumbprint;
        entity.ThumbprintSha256 = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        entity.NotBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        entity.NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        entity.CertificatePem = CertificateExport.ToPem(certificate);
    }

    /// <summary>"ECDSA P-256", "RSA 4096": short enough for a table column.</summary>
    public static string KeyTypeOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var described = CertificateDescription.DescribeKey(certificate.PublicKey);
        var cut = described.IndexOf(" (", StringComparison.Ordinal);
        return (cut > 0 ? described[..cut] : described).Replace(" bits", "", StringComparison.Ordinal);
    }

    /// <summary>The approvers of a grant as stored with a certificate; null when nobody had to approve.</summary>
    public static string? ApproversOf(ApprovalGrant? grant) => grant is null ? null : string.Join(", ", grant.ApprovedBy);
}
