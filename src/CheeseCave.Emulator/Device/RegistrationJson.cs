using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Device;

/// <summary>How registration results, certificates and times look on the device API.</summary>
internal static class RegistrationJson
{
    /// <summary>DeviceRegistrationResult (docs/azure-wire.md §6.1).</summary>
    public static JsonObject RegistrationState(RegistrationEntity record, Attested attested)
    {
        var state = new JsonObject();
        var enrollment = attested.Enrollment;
        if (attested.Leaf is not null)
        {
            var x509 = new JsonObject { ["certificateInfo"] = attested.LeafInfo };
            if (enrollment.IsGroup) x509["enrollmentGroupId"] = enrollment.Id;
            if (attested.SigningCertificate is not null) x509["signingCertificateInfo"] = attested.SigningInfo;
            state["x509"] = x509;
        }
        else
        {
            state["symmetricKey"] = enrollment.IsGroup ? new JsonObject { ["enrollmentGroupId"] = enrollment.Id } : new JsonObject();
        }

        state["registrationId"] = record.RegistrationId;
        state["createdDateTimeUtc"] = Timestamp(record.Created);
        if (record.Status == "assigned")
        {
            state["assignedHub"] = record.AssignedHub;
            state["deviceId"] = record.DeviceId;
        }

        state["status"] = record.Status;
        if (record.Substatus is not null && record.Status == "assigned") state["substatus"] = record.Substatus;
        if (record.ErrorCode is { } code) state["errorCode"] = code;
        if (record.ErrorMessage is not null) state["errorMessage"] = record.ErrorMessage;
        state["lastUpdatedDateTimeUtc"] = Timestamp(record.Updated);
        state["etag"] = record.Etag;
        return state;
    }

    public static JsonObject CertificateInfo(X509Certificate2 certificate) => new()
    {
        ["subjectName"] = certificate.Subject,
        ["sha1Thumbprint"] = certificate.Thumbprint,
        ["sha256Thumbprint"] = Convert.ToHexString(SHA256.HashData(certificate.RawData)),
        ["issuerName"] = certificate.Issuer,
        ["notBeforeUtc"] = Timestamp(certificate.NotBefore.ToUniversalTime()),
        ["notAfterUtc"] = Timestamp(certificate.NotAfter.ToUniversalTime()),
        ["serialNumber"] = certificate.SerialNumber,
        ["version"] = certificate.Version,
    };

    public static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static (string? Sha1, string? Sha256) Thumbprints(X509Certificate2? leaf) =>
        leaf is null ? (null, null) : (leaf.Thumbprint, Convert.ToHexString(SHA256.HashData(leaf.RawData)));

    /// <summary>"name.azure-devices.net" → "name".</summary>
    public static string HubName(string hostName) => hostName.Split('.')[0].ToLowerInvariant();

    public static JsonArray Subjects(IEnumerable<X509Certificate2> certificates) => new(certificates.Select(c => (JsonNode)c.Subject).ToArray());
}
