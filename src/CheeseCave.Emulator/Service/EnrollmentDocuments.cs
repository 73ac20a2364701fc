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

/// <summary>Enrollment groups and individual enrollments differ in their id field, their nouns and a few rules.</summary>
internal sealed class EnrollmentKind
{
    public static readonly EnrollmentKind Group = new(true, "enrollmentGroupId", "enrollment group", "EnrollmentGroup", ErrorCodes.InvalidEnrollmentGroupId);

    public static readonly EnrollmentKind Individual = new(false, "registrationId", "individual enrollment", "Enrollment", ErrorCodes.InvalidRegistrationId);

    private EnrollmentKind(bool isGroup, string idField, string noun, string itemType, int invalidIdCode)
    {
        IsGroup = isGroup;
        IdField = idField;
        Noun = noun;
        ItemType = itemType;
        InvalidIdCode = invalidIdCode;
    }

    public bool IsGroup { get; }

    /// <summary>The JSON property holding the id: enrollmentGroupId or registrationId.</summary>
    public string IdField { get; }

    public string Noun { get; }

    /// <summary>The x-ms-item-type of query pages.</summary>
    public string ItemType { get; }

    public int InvalidIdCode { get; }
}

/// <summary>How much of a stored enrollment a response shows.</summary>
internal enum EnrollmentView
{
    /// <summary>GET and query: symmetric keys are masked (null), as on Azure, where only attestationmechanism returns them.</summary>
    Masked,

    /// <summary>The PUT response: symmetric keys included (Azure returns generated keys on create).</summary>
    WithKeys,
}

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

    private static readonly string[] AllocationPolicies = ["hashed", "geoLatency", "static", "custom"];

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
            return (new Normalizer(kind, dps, existing, store).Run(urlId, body), null);
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

    private static bool IsIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or ':';

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";

    [GeneratedRegex(@"^[A-Za-z0-9\-._:]*[A-Za-z0-9\-]$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$")]
    private static partial Regex DeviceIdPattern();

    private sealed class ServiceErrorException(ServiceError error) : Exception(error.Message)
    {
        public ServiceError Error { get; } = error;
    }

    /// <summary>One PUT body's validation; throws <see cref="ServiceErrorException"/> at the first problem.</summary>
    private sealed class Normalizer(EnrollmentKind kind, ProvisioningServiceEntity dps, EnrollmentEntity? existing, EmulatorStore store)
    {
        private JsonObject? ExistingAttestation => existing?.Body["attestation"] as JsonObject;

        public JsonObject Run(string urlId, JsonObject body)
        {
            var id = GetString(body, kind.IdField, "the body");
            if (id is not null && !id.Equals(urlId, StringComparison.OrdinalIgnoreCase))
            {
                throw Bad(ErrorCodes.IdMismatch, $"The body's {kind.IdField} '{Shorten(id)}' differs from the id in the URL ('{Shorten(urlId)}'). Send the same id in both, or leave it out of the body.");
            }

            var result = new JsonObject { [kind.IdField] = existing?.Id ?? urlId };
            if (!kind.IsGroup)
            {
                if (GetString(body, "deviceId", "the body") is { } deviceId)
                {
                    if (!DeviceIdPattern().IsMatch(deviceId))
                    {
                        throw Bad(ErrorCodes.InvalidEnrollmentField,
                            $"deviceId '{Shorten(deviceId)}' is not a valid IoT Hub device id: 1-128 letters, digits and - . + % _ # * ? ! ( ) , : = @ $ '.");
                    }

                    result["deviceId"] = deviceId;
                }
            }

            result["attestation"] = Attestation(body);
            result["capabilities"] = Capabilities(body);
            Hubs(body, result);
            result["reprovisionPolicy"] = ReprovisionPolicy(body);
            if (body["initialTwin"] is { } twin)
            {
                result["initialTwin"] = InitialTwin(twin);
            }

            if (!kind.IsGroup && body["optionalDeviceInformation"] is { } info)
            {
                if (info is not JsonObject) throw Bad(ErrorCodes.InvalidEnrollmentField, "optionalDeviceInformation must be a JSON object (a twin collection).");
                result["optionalDeviceInformation"] = info.DeepClone();
            }

            var status = GetString(body, "provisioningStatus", "the body") ?? "enabled";
            if (!status.Equals("enabled", StringComparison.OrdinalIgnoreCase) && !status.Equals("disabled", StringComparison.OrdinalIgnoreCase))
            {
                throw Bad(ErrorCodes.InvalidEnrollmentField, $"provisioningStatus '{Shorten(status)}' is not valid: use 'enabled' or 'disabled'.");
            }

            result["provisioningStatus"] = status.ToLowerInvariant();
            return result;
        }

        private JsonObject Attestation(JsonObject body)
        {
            if (body["attestation"] is not JsonObject attestation)
            {
                throw Bad(ErrorCodes.InvalidAttestation, body["attestation"] is null
                    ? $"The {kind.Noun} has no attestation. Give attestation.type ({(kind.IsGroup ? "x509 or symmetricKey" : "x509, symmetricKey or tpm")}) and its settings."
                    : "attestation must be a JSON object.");
            }

            var type = GetString(attestation, "type", "attestation");
            switch (type?.ToLowerInvariant())
            {
                case "x509":
                    return new JsonObject { ["type"] = "x509", ["x509"] = X509(attestation["x509"]) };
                case "symmetrickey":
                    return new JsonObject { ["type"] = "symmetricKey", ["symmetricKey"] = SymmetricKey(attestation["symmetricKey"]) };
                case "tpm":
                    if (kind.IsGroup)
                    {
                        throw Bad(ErrorCodes.InvalidAttestation, "TPM attestation is for individual enrollments only; an enrollment group uses x509 or symmetricKey.");
                    }

                    return new JsonObject { ["type"] = "tpm", ["tpm"] = Tpm(attestation["tpm"]) };
                case null:
                    throw Bad(ErrorCodes.InvalidAttestation, $"attestation.type is missing: use {(kind.IsGroup ? "'x509' or 'symmetricKey'" : "'x509', 'symmetricKey' or 'tpm'")}.");
                default:
                    throw Bad(ErrorCodes.InvalidAttestation,
                        $"attestation.type '{Shorten(type)}' is not supported: use {(kind.IsGroup ? "'x509' or 'symmetricKey'" : "'x509', 'symmetricKey' or 'tpm'")}.");
            }
        }

        private JsonObject X509(JsonNode? node)
        {
            var certificatesField = kind.IsGroup ? "signingCertificates" : "clientCertificates";
            var otherField = kind.IsGroup ? "clientCertificates" : "signingCertificates";
            var help = $"give x509.caReferences.primary (the name of a certificate uploaded to the DPS) or x509.{certificatesField}.primary.certificate (PEM or base64)";
            if (node is not JsonObject x509)
            {
                throw Bad(ErrorCodes.InvalidAttestation, node is null ? $"attestation.type is x509 but attestation.x509 is missing: {help}." : "attestation.x509 must be a JSON object.");
            }

            if (x509[otherField] is not null)
            {
                throw Bad(ErrorCodes.InvalidAttestation, kind.IsGroup
                    ? "x509.clientCertificates are for individual enrollments; an enrollment group uses x509.signingCertificates (a CA certificate) or x509.caReferences."
                    : "x509.signingCertificates are for enrollment groups; an individual enrollment uses x509.clientCertificates (the device certificate) or x509.caReferences.");
            }

            var references = x509["caReferences"];
            var certificates = x509[certificatesField];
            if (references is null && certificates is null)
            {
                throw Bad(ErrorCodes.InvalidAttestation, $"attestation.x509 has no certificate: {help}.");
            }

            if (references is not null && certificates is not null)
            {
                throw Bad(ErrorCodes.InvalidAttestation, $"attestation.x509 has both caReferences and {certificatesField}; give one of them.");
            }

            if (references is not null)
            {
                if (references is not JsonObject refs) throw Bad(ErrorCodes.InvalidRequestBody, "x509.caReferences must be a JSON object with primary (and optionally secondary).");
                var result = new JsonObject();
                foreach (var slot in new[] { "primary", "secondary" })
                {
                    var name = GetString(refs, slot, "x509.caReferences");
                    if (name is null)
                    {
                        if (slot == "primary") throw Bad(ErrorCodes.InvalidAttestation, "x509.caReferences.primary is missing: give the name of a certificate uploaded to the DPS.");
                        continue;
                    }

                    var certificate = store.DpsCertificates.Get(ArmKeys.DpsCertificate(dps.Name, name));
                    if (certificate is null)
                    {
                        var known = store.DpsCertificates.All.Where(c => c.Dps.Equals(dps.Name, StringComparison.OrdinalIgnoreCase))
                            .Select(c => "'" + c.Name + "'").Order(StringComparer.OrdinalIgnoreCase).ToList();
                        throw Bad(ErrorCodes.CaCertificateNotFound,
                            $"x509.caReferences.{slot} names the certificate '{Shorten(name)}', which the DPS '{dps.Name}' does not have. "
                            + (known.Count == 0 ? "The DPS has no certificates yet: upload the CA certificate first." : $"Its certificates are: {string.Join(", ", known)}."),
                            new JsonObject { ["certificateName"] = name });
                    }

                    result[slot] = certificate.Name;
                }

                return new JsonObject { ["caReferences"] = result };
            }

            if (certificates is not JsonObject slots) throw Bad(ErrorCodes.InvalidRequestBody, $"x509.{certificatesField} must be a JSON object with primary (and optionally secondary).");
            var existingSlots = (ExistingAttestation?["x509"] as JsonObject)?[certificatesField] as JsonObject;
            var normalized = new JsonObject();
            foreach (var slot in new[] { "primary", "secondary" })
            {
                var value = slots[slot];
                if (value is null)
                {
                    if (slot == "primary") throw Bad(ErrorCodes.InvalidAttestation, $"x509.{certificatesField}.primary is missing: give primary.certificate (PEM or base64).");
                    continue;
                }

                if (value is not JsonObject withInfo) throw Bad(ErrorCodes.InvalidRequestBody, $"x509.{certificatesField}.{slot} must be a JSON object with a certificate.");
                normalized[slot] = Certificate(withInfo, $"x509.{certificatesField}.{slot}", existingSlots?[slot] as JsonObject);
            }

            return new JsonObject { [certificatesField] = normalized };
        }

        private static JsonObject Certificate(JsonObject withInfo, string where, JsonObject? existingSlot)
        {
            var text = GetString(withInfo, "certificate", where);
            if (string.IsNullOrWhiteSpace(text))
            {
                // A client that read the enrollment back got only the info; keep the stored certificate if it is the same one.
                if (existingSlot?["certificate"] is JsonNode stored && withInfo["info"] is JsonObject info)
                {
                    var sent = info["sha256Thumbprint"]?.ToString() ?? info["sha1Thumbprint"]?.ToString();
                    var kept = existingSlot["info"] as JsonObject;
                    if (sent is null || sent.Equals(kept?["sha256Thumbprint"]?.ToString(), StringComparison.OrdinalIgnoreCase)
                        || sent.Equals(kept?["sha1Thumbprint"]?.ToString(), StringComparison.OrdinalIgnoreCase))
                    {
                        return new JsonObject { ["certificate"] = stored.DeepClone(), ["info"] = kept?.DeepClone() };
                    }
                }

                throw Bad(ErrorCodes.InvalidCertificate, $"{where}.certificate is missing: give the certificate as PEM (-----BEGIN CERTIFICATE-----) or base64 DER.");
            }

            ReadCertificates read;
            try
            {
                read = CertificateReader.Read(Encoding.UTF8.GetBytes(text.Trim()));
            }
            catch (Exception ex) when (ex is PkiException or CryptographicException or FormatException)
            {
                throw Bad(ErrorCodes.InvalidCertificate, $"{where}.certificate cannot be read as an X.509 certificate: {ex.Message} Give it as PEM (-----BEGIN CERTIFICATE-----) or base64 DER.");
            }

            using (read)
            {
                if (read.Key is not null)
                {
                    throw Bad(ErrorCodes.InvalidCertificate, $"{where}.certificate carries a private key. Send only the certificate; the private key must stay with the device or CA.");
                }

                var certificate = read.Certificates[0];
                return new JsonObject { ["certificate"] = Convert.ToBase64String(certificate.RawData), ["info"] = CertificateInfo(certificate) };
            }
        }

        private JsonObject SymmetricKey(JsonNode? node)
        {
            if (node is not null and not JsonObject) throw Bad(ErrorCodes.InvalidRequestBody, "attestation.symmetricKey must be a JSON object with primaryKey and secondaryKey.");
            var given = node as JsonObject;
            var kept = ExistingAttestation?["symmetricKey"] as JsonObject;
            var result = new JsonObject();
            foreach (var name in new[] { "primaryKey", "secondaryKey" })
            {
                var key = given is null ? null : GetString(given, name, "attestation.symmetricKey");
                if (string.IsNullOrEmpty(key))
                {
                    key = kept?[name]?.GetValue<string>() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(GeneratedSymmetricKeyBytes));
                }
                else
                {
                    var buffer = new byte[key.Length];
                    if (!Convert.TryFromBase64String(key, buffer, out var length) || length < MinSymmetricKeyBytes || length > MaxSymmetricKeyBytes)
                    {
                        throw Bad(ErrorCodes.InvalidSymmetricKey, length is > 0 and (< MinSymmetricKeyBytes or > MaxSymmetricKeyBytes)
                            ? $"attestation.symmetricKey.{name} is {length} bytes long; a key must be base64 of {MinSymmetricKeyBytes} to {MaxSymmetricKeyBytes} bytes. Leave it out to let the service generate one."
                            : $"attestation.symmetricKey.{name} is not valid base64; a key must be base64 of {MinSymmetricKeyBytes} to {MaxSymmetricKeyBytes} bytes. Leave it out to let the service generate one.");
                    }
                }

                result[name] = key;
            }

            return result;
        }

        private static JsonObject Tpm(JsonNode? node)
        {
            if (node is not JsonObject tpm)
            {
                throw Bad(ErrorCodes.InvalidAttestation, "attestation.type is tpm but attestation.tpm is missing: give tpm.endorsementKey (base64).");
            }

            var result = new JsonObject();
            foreach (var name in new[] { "endorsementKey", "storageRootKey" })
            {
                var value = GetString(tpm, name, "attestation.tpm");
                if (value is null)
                {
                    if (name == "endorsementKey") throw Bad(ErrorCodes.InvalidAttestation, "attestation.tpm.endorsementKey is missing: give the TPM's endorsement key (base64).");
                    continue;
                }

                if (value.Length == 0 || !Convert.TryFromBase64String(value, new byte[value.Length], out _))
                {
                    throw Bad(ErrorCodes.InvalidAttestation, $"attestation.tpm.{name} is not valid base64.");
                }

                result[name] = value;
            }

            return result;
        }

        private static JsonObject Capabilities(JsonObject body)
        {
            var node = body["capabilities"];
            if (node is null) return new JsonObject { ["iotEdge"] = false };
            if (node is not JsonObject capabilities) throw Bad(ErrorCodes.InvalidEnrollmentField, "capabilities must be a JSON object such as {\"iotEdge\": false}.");
            return new JsonObject { ["iotEdge"] = Bool(capabilities, "iotEdge", "capabilities") ?? false };
        }

        private static JsonObject ReprovisionPolicy(JsonObject body)
        {
            var node = body["reprovisionPolicy"];
            if (node is not null and not JsonObject)
            {
                throw Bad(ErrorCodes.InvalidEnrollmentField, "reprovisionPolicy must be a JSON object such as {\"updateHubAssignment\": true, \"migrateDeviceData\": true}.");
            }

            var policy = node as JsonObject;
            return new JsonObject
            {
                ["updateHubAssignment"] = (policy is null ? null : Bool(policy, "updateHubAssignment", "reprovisionPolicy")) ?? true,
                ["migrateDeviceData"] = (policy is null ? null : Bool(policy, "migrateDeviceData", "reprovisionPolicy")) ?? true,
            };
        }

        private static JsonObject InitialTwin(JsonNode node)
        {
            if (node is not JsonObject twin) throw Bad(ErrorCodes.InvalidEnrollmentField, "initialTwin must be a JSON object: {\"tags\": {...}, \"properties\": {\"desired\": {...}}}.");
            if (twin["tags"] is { } tags and not JsonObject) throw Bad(ErrorCodes.InvalidEnrollmentField, $"initialTwin.tags must be a JSON object, not {Describe(tags)}.");
            if (twin["properties"] is { } properties)
            {
                if (properties is not JsonObject props) throw Bad(ErrorCodes.InvalidEnrollmentField, $"initialTwin.properties must be a JSON object, not {Describe(properties)}.");
                if (props["desired"] is { } desired and not JsonObject)
                {
                    throw Bad(ErrorCodes.InvalidEnrollmentField, $"initialTwin.properties.desired must be a JSON object, not {Describe(desired)}.");
                }
            }

            return (JsonObject)twin.DeepClone();
        }

        private void Hubs(JsonObject body, JsonObject result)
        {
            var linked = dps.IotHubs.Select(h => h.HostName).Where(h => h.Length > 0).ToList();
            string Linked(string host, string field)
            {
                var match = linked.FirstOrDefault(h => h.Equals(host, StringComparison.OrdinalIgnoreCase));
                if (match is not null) return match;
                throw Bad(ErrorCodes.IotHubNotLinked,
                    $"{field} names the IoT hub '{Shorten(host)}', which is not linked to the DPS '{dps.Name}'. "
                    + (linked.Count == 0 ? "The DPS has no linked hubs: link the hub to the DPS first (ARM: properties.iotHubs)." : $"Linked hubs: {string.Join(", ", linked)}."),
                    new JsonObject { ["iotHub"] = host });
            }

            List<string>? hubs = null;
            if (body["iotHubs"] is { } hubsNode)
            {
                if (hubsNode is not JsonArray array) throw Bad(ErrorCodes.InvalidEnrollmentField, "iotHubs must be a JSON array of IoT hub host names.");
                hubs = [];
                foreach (var item in array)
                {
                    if (item is not JsonValue value || !value.TryGetValue<string>(out var host) || host.Length == 0)
                    {
                        throw Bad(ErrorCodes.InvalidEnrollmentField, "iotHubs must hold IoT hub host names (strings such as \"myhub.azure-devices.net\").");
                    }

                    var canonical = Linked(host, "iotHubs");
                    if (!hubs.Contains(canonical)) hubs.Add(canonical);
                }

                result["iotHubs"] = new JsonArray([.. hubs.Select(h => (JsonNode)h)]);
            }

            if (GetString(body, "iotHubHostName", "the body") is { Length: > 0 } legacy)
            {
                result["iotHubHostName"] = Linked(legacy, "iotHubHostName");
            }

            var policy = GetString(body, "allocationPolicy", "the body");
            string? canonicalPolicy = null;
            if (policy is not null)
            {
                canonicalPolicy = AllocationPolicies.FirstOrDefault(p => p.Equals(policy, StringComparison.OrdinalIgnoreCase))
                    ?? throw Bad(ErrorCodes.InvalidAllocationPolicy, $"allocationPolicy '{Shorten(policy)}' is not valid: use hashed, geoLatency, static or custom.");
                if (canonicalPolicy == "static" && hubs is not null && hubs.Count != 1)
                {
                    throw Bad(ErrorCodes.InvalidAllocationPolicy, $"allocationPolicy static assigns every device to one hub, but iotHubs lists {hubs.Count}. Give exactly one hub.");
                }

                result["allocationPolicy"] = canonicalPolicy;
            }

            if (body["customAllocationDefinition"] is { } custom)
            {
                if (custom is not JsonObject definition) throw Bad(ErrorCodes.InvalidAllocationPolicy, "customAllocationDefinition must be a JSON object with webhookUrl and apiVersion.");
                var url = GetString(definition, "webhookUrl", "customAllocationDefinition");
                if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                {
                    throw Bad(ErrorCodes.InvalidAllocationPolicy, "customAllocationDefinition.webhookUrl must be an absolute https URL of the allocation function.");
                }

                var apiVersion = GetString(definition, "apiVersion", "customAllocationDefinition");
                if (string.IsNullOrWhiteSpace(apiVersion))
                {
                    throw Bad(ErrorCodes.InvalidAllocationPolicy, "customAllocationDefinition.apiVersion is missing: give the DPS api-version the webhook expects, e.g. 2021-10-01.");
                }

                result["customAllocationDefinition"] = new JsonObject { ["webhookUrl"] = url, ["apiVersion"] = apiVersion };
            }
            else if (canonicalPolicy == "custom")
            {
                throw Bad(ErrorCodes.InvalidAllocationPolicy, "allocationPolicy custom needs customAllocationDefinition {webhookUrl, apiVersion}: the webhook that picks the hub.");
            }
        }

        private static string? GetString(JsonObject parent, string name, string where)
        {
            var node = parent[name];
            if (node is null) return null;
            if (node is JsonValue value && value.TryGetValue<string>(out var text)) return text;
            throw Bad(ErrorCodes.InvalidRequestBody, $"{(where == "the body" ? name : where + "." + name)} must be a string, not {Describe(node)}.");
        }

        private static bool? Bool(JsonObject parent, string name, string where)
        {
            var node = parent[name];
            if (node is null) return null;
            if (node is JsonValue value && value.TryGetValue<bool>(out var flag)) return flag;
            throw Bad(ErrorCodes.InvalidEnrollmentField, $"{where}.{name} must be true or false, not {Describe(node)}.");
        }

        private static string Describe(JsonNode node) => node.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.Object => "an object",
            System.Text.Json.JsonValueKind.Array => "an array",
            System.Text.Json.JsonValueKind.String => "a string",
            System.Text.Json.JsonValueKind.Number => "a number",
            System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "a boolean",
            _ => "null",
        };

        private static ServiceErrorException Bad(int code, string message, JsonObject? info = null) => new(ServiceError.BadRequest(code, message, info));
    }
}
