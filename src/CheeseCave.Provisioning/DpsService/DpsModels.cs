using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace CheeseCave.Provisioning.DpsService;

// The DPS service API vocabulary (docs/azure-wire.md §5.1), serialized by System.Text.Json in the wire shape: camelCase
// properties and enum values, nulls left out. Etags are kept internally (JsonInclude on internal members) and never
// shown: the client reads them fresh before each write.

/// <summary>How an enrollment attests devices.</summary>
public enum AttestationMechanismType
{
    None,
    Tpm,
    X509,
    SymmetricKey,
}

/// <summary>The enrollment allocation policy (camelCase on the wire: hashed, geoLatency, static, custom).</summary>
public enum AllocationPolicy
{
    Hashed,
    GeoLatency,
    Static,
    Custom,
}

public enum ProvisioningStatus
{
    Enabled,
    Disabled,
}

public enum RegistrationStatus
{
    Unassigned,
    Assigning,
    Assigned,
    Failed,
    Disabled,
}

public enum RegistrationSubstatus
{
    InitialAssignment,
    DeviceDataMigrated,
    DeviceDataReset,
    ReprovisionedToInitialAssignment,
}

public sealed class AttestationMechanism
{
    [JsonPropertyName("type")]
    public AttestationMechanismType Type { get; set; }

    [JsonPropertyName("x509")]
    public X509Attestation? X509 { get; set; }

    [JsonPropertyName("symmetricKey")]
    public SymmetricKeyAttestation? SymmetricKey { get; set; }

    [JsonPropertyName("tpm")]
    public TpmAttestation? Tpm { get; set; }

    /// <summary>X.509 attestation on CA certificates uploaded (and verified) in the DPS, by their names.</summary>
    public static AttestationMechanism FromCaReferences(string primary, string? secondary = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(primary);
        return new() { Type = AttestationMechanismType.X509, X509 = new X509Attestation { CaReferences = new X509CAReferences { Primary = primary, Secondary = secondary } } };
    }

    /// <summary>X.509 attestation of an enrollment group on a signing (CA) certificate given in the enrollment itself.</summary>
    public static AttestationMechanism FromSigningCertificates(X509Certificate2 primary, X509Certificate2? secondary = null) =>
        new() { Type = AttestationMechanismType.X509, X509 = new X509Attestation { SigningCertificates = X509Certificates.From(primary, secondary) } };

    /// <summary>X.509 attestation of an individual enrollment on the device's own certificate.</summary>
    public static AttestationMechanism FromClientCertificates(X509Certificate2 primary, X509Certificate2? secondary = null) =>
        new() { Type = AttestationMechanismType.X509, X509 = new X509Attestation { ClientCertificates = X509Certificates.From(primary, secondary) } };

    /// <summary>Symmetric keys; leave them null and the service generates them.</summary>
    public static AttestationMechanism FromSymmetricKeys(string? primaryKey = null, string? secondaryKey = null) =>
        new() { Type = AttestationMechanismType.SymmetricKey, SymmetricKey = new SymmetricKeyAttestation { PrimaryKey = primaryKey, SecondaryKey = secondaryKey } };
}

public sealed class X509Attestation
{
    [JsonPropertyName("caReferences")]
    public X509CAReferences? CaReferences { get; set; }

    [JsonPropertyName("signingCertificates")]
    public X509Certificates? SigningCertificates { get; set; }

    [JsonPropertyName("clientCertificates")]
    public X509Certificates? ClientCertificates { get; set; }
}

/// <summary>Names of certificates uploaded to the DPS (ARM provisioningServices/certificates).</summary>
public sealed class X509CAReferences
{
    [JsonPropertyName("primary")]
    public string? Primary { get; set; }

    [JsonPropertyName("secondary")]
    public string? Secondary { get; set; }
}

public sealed class X509Certificates
{
    [JsonPropertyName("primary")]
    public X509CertificateWithInfo? Primary { get; set; }

    [JsonPropertyName("secondary")]
    public X509CertificateWithInfo? Secondary { get; set; }

    public static X509Certificates From(X509Certificate2 primary, X509Certificate2? secondary = null)
    {
        ArgumentNullException.ThrowIfNull(primary);
        return new() { Primary = X509CertificateWithInfo.From(primary), Secondary = secondary is null ? null : X509CertificateWithInfo.From(secondary) };
    }
}

/// <summary>A certificate sent to the service (base64 DER or PEM) and the info the service returns instead of it.</summary>
public sealed class X509CertificateWithInfo
{
    [JsonPropertyName("certificate")]
    public string? Certificate { get; set; }

    [JsonPropertyName("info")]
    public X509CertificateInfo? Info { get; set; }

    /// <summary>The public certificate only, base64 DER.</summary>
    public static X509CertificateWithInfo From(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new() { Certificate = Convert.ToBase64String(certificate.RawData) };
    }
}

public sealed class X509CertificateInfo
{
    [JsonPropertyName("subjectName")]
    public string? SubjectName { get; set; }

    [JsonPropertyName("sha1Thumbprint")]
    public string? Sha1Thumbprint { get; set; }

    [JsonPropertyName("sha256Thumbprint")]
    public string? Sha256Thumbprint { get; set; }

    [JsonPropertyName("issuerName")]
    public string? IssuerName { get; set; }

    [JsonPropertyName("notBeforeUtc")]
    public DateTimeOffset? NotBeforeUtc { get; set; }

    [JsonPropertyName("notAfterUtc")]
    public DateTimeOffset? NotAfterUtc { get; set; }

    [JsonPropertyName("serialNumber")]
    public string? SerialNumber { get; set; }

    [JsonPropertyName("version")]
    public int? Version { get; set; }
}

public sealed class SymmetricKeyAttestation
{
    [JsonPropertyName("primaryKey")]
    public string? PrimaryKey { get; set; }

    [JsonPropertyName("secondaryKey")]
    public string? SecondaryKey { get; set; }

    /// <summary>Never shows the keys.</summary>
    public override string ToString() => nameof(SymmetricKeyAttestation);
}

public sealed class TpmAttestation
{
    [JsonPropertyName("endorsementKey")]
    public string? EndorsementKey { get; set; }

    [JsonPropertyName("storageRootKey")]
    public string? StorageRootKey { get; set; }
}

public sealed class DeviceCapabilities
{
    [JsonPropertyName("iotEdge")]
    public bool IotEdge { get; set; }
}

/// <summary>What happens when a device registers again (defaults: move it and migrate its data).</summary>
public sealed class ReprovisionPolicy
{
    [JsonPropertyName("updateHubAssignment")]
    public bool UpdateHubAssignment { get; set; } = true;

    [JsonPropertyName("migrateDeviceData")]
    public bool MigrateDeviceData { get; set; } = true;
}

public sealed class CustomAllocationDefinition
{
    [JsonPropertyName("webhookUrl")]
    public Uri? WebhookUrl { get; set; }

    [JsonPropertyName("apiVersion")]
    public string? ApiVersion { get; set; }
}

/// <summary>The twin a new device starts with: tags and desired properties (free-form JSON objects).</summary>
public sealed class InitialTwin
{
    [JsonPropertyName("tags")]
    public JsonObject? Tags { get; set; }

    [JsonPropertyName("properties")]
    public InitialTwinProperties? Properties { get; set; }
}

public sealed class InitialTwinProperties
{
    [JsonPropertyName("desired")]
    public JsonObject? Desired { get; set; }
}

/// <summary>Settings shared by enrollment groups and individual enrollments.</summary>
public abstract class EnrollmentBase
{
    [JsonPropertyName("attestation")]
    public AttestationMechanism Attestation { get; set; } = new();

    [JsonPropertyName("capabilities")]
    public DeviceCapabilities? Capabilities { get; set; }

    /// <summary>The legacy single hub; prefer <see cref="IotHubs"/>.</summary>
    [JsonPropertyName("iotHubHostName")]
    public string? IotHubHostName { get; set; }

    /// <summary>Host names of linked hubs this enrollment may use (all linked hubs when null).</summary>
    [JsonPropertyName("iotHubs")]
    public IList<string>? IotHubs { get; set; }

    /// <summary>Null: the DPS's own allocation policy applies.</summary>
    [JsonPropertyName("allocationPolicy")]
    public AllocationPolicy? AllocationPolicy { get; set; }

    [JsonPropertyName("customAllocationDefinition")]
    public CustomAllocationDefinition? CustomAllocationDefinition { get; set; }

    [JsonPropertyName("reprovisionPolicy")]
    public ReprovisionPolicy? ReprovisionPolicy { get; set; }

    [JsonPropertyName("initialTwin")]
    public InitialTwin? InitialTwin { get; set; }

    [JsonPropertyName("provisioningStatus")]
    public ProvisioningStatus? ProvisioningStatus { get; set; }

    [JsonPropertyName("createdDateTimeUtc")]
    public DateTimeOffset? CreatedDateTimeUtc { get; set; }

    [JsonPropertyName("lastUpdatedDateTimeUtc")]
    public DateTimeOffset? LastUpdatedDateTimeUtc { get; set; }

    /// <summary>The etag this copy was read with; used internally only, never sent from a caller's copy.</summary>
    [JsonInclude]
    [JsonPropertyName("etag")]
    internal string? ETag { get; set; }
}

public sealed class EnrollmentGroup : EnrollmentBase
{
    [JsonPropertyName("enrollmentGroupId")]
    public string EnrollmentGroupId { get; set; } = string.Empty;
}

public sealed class IndividualEnrollment : EnrollmentBase
{
    [JsonPropertyName("registrationId")]
    public string RegistrationId { get; set; } = string.Empty;

    /// <summary>The IoT Hub device id; the registration id when null.</summary>
    [JsonPropertyName("deviceId")]
    public string? DeviceId { get; set; }

    /// <summary>Read-only: the device's registration made through this enrollment.</summary>
    [JsonPropertyName("registrationState")]
    public DeviceRegistrationState? RegistrationState { get; set; }

    [JsonPropertyName("optionalDeviceInformation")]
    public JsonObject? OptionalDeviceInformation { get; set; }
}

/// <summary>A device's registration record in the DPS (read-only).</summary>
public sealed class DeviceRegistrationState
{
    [JsonPropertyName("registrationId")]
    public string RegistrationId { get; set; } = string.Empty;

    [JsonPropertyName("createdDateTimeUtc")]
    public DateTimeOffset? CreatedDateTimeUtc { get; set; }

    [JsonPropertyName("assignedHub")]
    public string? AssignedHub { get; set; }

    [JsonPropertyName("deviceId")]
    public string? DeviceId { get; set; }

    [JsonPropertyName("status")]
    public RegistrationStatus? Status { get; set; }

    [JsonPropertyName("substatus")]
    public RegistrationSubstatus? Substatus { get; set; }

    [JsonPropertyName("errorCode")]
    public int? ErrorCode { get; set; }

    [JsonPropertyName("errorMessage")]
    public string? ErrorMessage { get; set; }

    [JsonPropertyName("lastUpdatedDateTimeUtc")]
    public DateTimeOffset? LastUpdatedDateTimeUtc { get; set; }

    [JsonPropertyName("payload")]
    public JsonObject? Payload { get; set; }

    [JsonInclude]
    [JsonPropertyName("etag")]
    internal string? ETag { get; set; }
}
