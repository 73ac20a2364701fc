using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.State;
using CheeseCave.Pki;

namespace CheeseCave.Emulator.Arm;

/// <summary>How a DPS certificate looks on the wire (docs/azure-wire.md §2).</summary>
internal static class DpsCertificateJson
{
    public const string ResourceType = "Microsoft.Devices/ProvisioningServices/Certificates";

    /// <summary>CertificateResponse (docs/azure-wire.md §2); <paramref name="verificationCode"/> makes it a VerificationCodeResponse.</summary>
    public static JsonObject Describe(ProvisioningServiceEntity dps, DpsCertificateEntity certificate, string? verificationCode = null)
    {
        ArgumentNullException.ThrowIfNull(dps);
        ArgumentNullException.ThrowIfNull(certificate);
        using var x509 = X509CertificateLoader.LoadCertificate(certificate.Der);
        var properties = new JsonObject();
        if (verificationCode is not null) properties["verificationCode"] = verificationCode;
        properties["subject"] = SubjectOf(x509);
        properties["expiry"] = ArmRequests.Rfc1123(new DateTimeOffset(x509.NotAfter.ToUniversalTime()));
        properties["thumbprint"] = x509.Thumbprint;
        properties["isVerified"] = certificate.IsVerified;
        // Azure's recorded answers carry the certificate only in generateVerificationCode's answer; null elsewhere.
        properties["certificate"] = verificationCode is null ? null : Convert.ToBase64String(certificate.Der);
        properties["created"] = ArmRequests.Rfc1123(certificate.Created);
        properties["updated"] = ArmRequests.Rfc1123(certificate.Updated);
        return new JsonObject
        {
            ["id"] = $"{ProvisioningServiceJson.PathOf(dps)}/certificates/{Uri.EscapeDataString(certificate.Name)}",
            ["name"] = certificate.Name,
            ["type"] = ResourceType,
            ["etag"] = certificate.Etag,
            ["properties"] = properties,
        };
    }

    private static string SubjectOf(X509Certificate2 certificate) =>
        SubjectNames.GetCommonName(certificate) is { } cn ? "CN=" + cn : certificate.Subject;
}
