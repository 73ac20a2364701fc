using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CheeseCave.Pki;

/// <summary>The decoded facts of a certificate, as `openssl x509 -text` would show them, in plain words.</summary>
public sealed record CertificateDescription(
    string Subject,
    string? CommonName,
    string Issuer,
    string SerialNumberHex,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    string KeyDescription,
    string SignatureAlgorithm,
    bool IsCa,
    int? PathLength,
    bool IsSelfSigned,
    string KeyUsages,
    string ExtendedKeyUsages,
    string? SubjectKeyIdentifier,
    string? AuthorityKeyIdentifier,
    string ThumbprintSha1,
    string ThumbprintSha256)
{
    public static CertificateDescription Of(X509Certificate2 certificate)
    {
        var basic = certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        var usage = certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        var eku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        var ski = certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault();
        var aki = certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault();
        return new CertificateDescription(
            certificate.Subject,
            SubjectNames.GetCommonName(certificate),
            certificate.Issuer,
            certificate.SerialNumber,
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime()),
            new DateTimeOffset(certificate.NotAfter.ToUniversalTime()),
            DescribeKey(certificate.PublicKey),
            SignatureVerifier.SignatureAlgorithmName(certificate),
            basic?.CertificateAuthority ?? false,
            basic is { HasPathLengthConstraint: true } ? basic.PathLengthConstraint : null,
            SignatureVerifier.IsSelfSigned(certificate),
            usage is null ? "(none)" : usage.KeyUsages.ToString(),
            eku is null ? "(none)" : string.Join(", ", eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.FriendlyName ?? o.Value)),
            ski?.SubjectKeyIdentifier,
            aki?.KeyIdentifier is { } id ? Convert.ToHexString(id.Span) : null,
            certificate.GetCertHashString(HashAlgorithmName.SHA1),
            certificate.GetCertHashString(HashAlgorithmName.SHA256));
    }

    public static string DescribeKey(PublicKey key)
    {
        using (var ec = key.GetECDsaPublicKey())
        {
            if (ec is not null)
            {
                var curve = ec.ExportParameters(false).Curve;
                var name = curve.Oid.Value switch
                {
                    "1.2.840.10045.3.1.7" => "P-256",
                    "1.3.132.0.34" => "P-384",
                    "1.3.132.0.35" => "P-521",
                    _ => curve.Oid.FriendlyName ?? curve.Oid.Value,
                };
                return $"ECDSA {name} ({ec.KeySize} bits)";
            }
        }

        using (var rsa = key.GetRSAPublicKey())
        {
            if (rsa is not null) return $"RSA {rsa.KeySize} bits";
        }

        return key.Oid.FriendlyName ?? key.Oid.Value ?? "unknown";
    }

    public string ToText(TimeProvider? time = null)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var days = (NotAfter - now).TotalDays;
        var expiry = days < 0 ? $"expired {Math.Abs(days):0} days ago" : $"expires in {days:0} days";
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"Subject:        {Subject}");
        b.AppendLine(CultureInfo.InvariantCulture, $"Issuer:         {Issuer}{(IsSelfSigned ? "  (self-signed)" : string.Empty)}");
        b.AppendLine(CultureInfo.InvariantCulture, $"Serial:         {SerialNumberHex}");
        b.AppendLine(CultureInfo.InvariantCulture, $"Valid:          {NotBefore:yyyy-MM-dd HH:mm} UTC to {NotAfter:yyyy-MM-dd HH:mm} UTC ({expiry})");
        b.AppendLine(CultureInfo.InvariantCulture, $"Key:            {KeyDescription}");
        b.AppendLine(CultureInfo.InvariantCulture, $"Signature:      {SignatureAlgorithm}");
        b.AppendLine(CultureInfo.InvariantCulture, $"CA:             {(IsCa ? "yes" + (PathLength is { } p ? $", path length {p}" : ", no path length limit") : "no")}");
        b.AppendLine(CultureInfo.InvariantCulture, $"Key usage:      {KeyUsages}");
        b.AppendLine(CultureInfo.InvariantCulture, $"Extended usage: {ExtendedKeyUsages}");
        b.AppendLine(CultureInfo.InvariantCulture, $"SKI / AKI:      {SubjectKeyIdentifier ?? "-"} / {AuthorityKeyIdentifier ?? "-"}");
        b.AppendLine(CultureInfo.InvariantCulture, $"SHA-1:          {ThumbprintSha1}   (what DPS shows)");
        b.AppendLine(CultureInfo.InvariantCulture, $"SHA-256:        {ThumbprintSha256}   (what IoT Hub shows)");
        return b.ToString();
    }
}
