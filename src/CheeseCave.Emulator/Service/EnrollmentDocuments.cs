using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;
using CheeseCave.Pki;

namespace CheeseCave.Emulator.Service;

/// <summary>
/// Validation and normalisation of enrollment JSON (docs/azure-wire.md §5.1), and its rendering for responses.
/// <para>
/// The stored body (EnrollmentEntity.Body), which the device registration code reads, is the normalised request with
/// canonical property names and values: <c>attestation.type</c> is x509, symmetricKey or tpm;
/// <c>attestation.x509.{signingCertificates|clientCertificates}.{primary|secondary}</c> hold <c>certificate</c>
/// (base64 DER of one certificate) and <c>info</c>; <c>attestation.x509.caReferences.{primary|secondary}</c> hold DPS
/// certificate names as ARM spells them; <c>attestation.symmetricKey</c> always has both keys; <c>iotHubs</c> and
/// <c>iotHubHostName</c> use the linked hubs' host names; <c>allocationPolicy</c> is camelCase; <c>provisioningStatus</c>,
/// <c>capabilities</c> and <c>reprovisionPolicy</c> are always present; plus <c>etag</c>, <c>createdDateTimeUtc</c> and
/// <c>lastUpdatedDateTimeUtc</c>. Certificates never leave the emulator in responses; only their info does.
/// </para>
/// </summary>
internal static partial class EnrollmentDocuments
{
    public const int MaxIdLength = 128;

    /// <summary>Published DPS limits (docs/azure-wire.md §7).</summary>
    public const int MaxX509EnrollmentGroups = 100;

    public const int MaxSymmetricKeyEnrollmentGroups = 100;

    public const int MinSymmetricKeyBytes = 16;

    public const int MaxSymmetricKeyBytes = 64;

    /// <summary>Server-generated symmetric keys have 64 random bytes, as the Azure portal makes them.</summary>
    public const int GeneratedSymmetricKeyBytes = 64;

    internal static readonly string[] AllocationPolicies = ["hashed", "geoLatency", "static", "custom"];

    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>An enrollment group id or registration id: 1-128 letters, digits, '-', '.', '_', ':', ending in a letter, digit or '-'.</summary>
    public static bool IsValidId(string? id) => id is { Length: > 0 and <= MaxIdLength } && IdPattern().IsMatch(id);

    public static ServiceError? CheckId(EnrollmentKind kind, string? id)
    {
        ArgumentNullException.ThrowIfNull(kind);
        if (IsValidId(id)) return null;
        var name = kind.IsGroup ? "enrollment group id" : "registration id";
        string why;
        if (string.IsNullOrEmpty(id)) why = "it is empty";
        else if (id.Length > MaxIdLength) why = $"it is {id.Length} characters long (at most {MaxIdLength})";
        else if (id.FirstOrDefault(c => !IsIdChar(c)) is var bad and not '\0') why = bad == ' ' ? "it contains a space" : $"it contains '{bad}'";
        else why = $"it ends with '{id[^1]}'";
        return ServiceError.BadRequest(kind.InvalidIdCode,
            $"'{Shorten(id ?? string.Empty)}' is not a valid {name}: {why}. An id is case-insensitive, 1-{MaxIdLength} characters of letters, digits, '-', '.', '_' and ':', "
            + "and ends with a letter, a digit or '-'.");
    }

    /// <summary>
    /// Validates a PUT body and returns the normalised body to store (without etag and timestamps). <paramref name="existing"/>
    /// supplies what a client may omit on update: symmetric keys and certificates it got back masked.
    /// </summary>
    public static (JsonObject? Body, ServiceError? Error) Normalize(
        EnrollmentKind kind, string urlId, JsonObject body, ProvisioningServiceEntity dps, EnrollmentEntity? existing, EmulatorStore store)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(dps);
        ArgumentNullException.ThrowIfNull(store);
        try
        {
            return (new EnrollmentValidator(kind, dps, existing, store).Run(urlId, body), null);
        }
        catch (ServiceErrorException ex)
        {
            return (null, ex.Error);
        }
    }

    /// <summary>The attestation type of a stored body: x509, symmetricKey or tpm.</summary>
    public static string AttestationType(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return (body["attestation"] as JsonObject)?["type"]?.GetValue<string>() ?? string.Empty;
    }

    /// <summary>An enrollment as a response shows it: certificates reduced to their info, keys masked unless asked for.</summary>
    public static JsonObject Render(EnrollmentEntity entity, EnrollmentView view, JsonObject? registrationState = null)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var result = (JsonObject)entity.Body.DeepClone();
        if (result["attestation"] is JsonObject attestation)
        {
            result["attestation"] = RenderAttestation(attestation, includeKeys: view == EnrollmentView.WithKeys);
        }

        result["etag"] = entity.Etag;
        result["createdDateTimeUtc"] = Iso(entity.Created);
        result["lastUpdatedDateTimeUtc"] = Iso(entity.Updated);
        if (registrationState is not null)
        {
            result["registrationState"] = registrationState;
        }

        return result;
    }

    /// <summary>The AttestationMechanism (with symmetric keys) that POST .../attestationmechanism returns.</summary>
    public static JsonObject AttestationMechanism(EnrollmentEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return entity.Body["attestation"] is JsonObject attestation ? RenderAttestation((JsonObject)attestation.DeepClone(), includeKeys: true) : [];
    }

    private static JsonObject RenderAttestation(JsonObject attestation, bool includeKeys)
    {
        var copy = (JsonObject)attestation.DeepClone();
        if (copy["x509"] is JsonObject x509)
        {
            foreach (var slots in new[] { "signingCertificates", "clientCertificates" })
            {
                if (x509[slots] is not JsonObject certificates) continue;
                foreach (var slot in new[] { "primary", "secondary" })
                {
                    if (certificates[slot] is JsonObject withInfo) withInfo.Remove("certificate");
                }
            }
        }

        if (!includeKeys && copy["symmetricKey"] is JsonObject symmetric)
        {
            symmetric["primaryKey"] = null;
            symmetric["secondaryKey"] = null;
        }

        return copy;
    }

    /// <summary>The X509CertificateInfo of docs/azure-wire.md §5.1.</summary>
    public static JsonObject CertificateInfo(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new JsonObject
        {
            ["subjectName"] = certificate.Subject,
            ["sha1Thumbprint"] = certificate.GetCertHashString(HashAlgorithmName.SHA1),
            ["sha256Thumbprint"] = certificate.GetCertHashString(HashAlgorithmName.SHA256),
            ["issuerName"] = certificate.Issuer,
            ["notBeforeUtc"] = Iso(new DateTimeOffset(certificate.NotBefore.ToUniversalTime())),
            ["notAfterUtc"] = Iso(new DateTimeOffset(certificate.NotAfter.ToUniversalTime())),
            ["serialNumber"] = certificate.SerialNumber,
            ["version"] = certificate.Version,
        };
    }

    internal static bool IsIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or ':';

    internal static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";

    [GeneratedRegex(@"^[A-Za-z0-9\-._:]*[A-Za-z0-9\-]$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$")]
    internal static partial Regex DeviceIdPattern();
}
