using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.State;

// The emulator's own records of what Azure would hold. They are persisted as JSON and mapped to the wire shapes by
// the endpoint code; they never leave the process as they are. Keys are lower-cased where Azure is case-insensitive.

internal sealed record ResourceGroupEntity(string SubscriptionId, string Name, string Location, Dictionary<string, string> Tags);

internal sealed record AccessPolicy(string KeyName, string PrimaryKey, string SecondaryKey, string Rights);

internal sealed record LinkedHub(string ConnectionString, string Location, bool ApplyAllocationPolicy, int AllocationWeight)
{
    /// <summary>The hub host name, from the connection string's HostName.</summary>
    public string HostName => ConnectionStrings.Parse(ConnectionString).GetValueOrDefault("HostName") ?? string.Empty;
}

internal sealed record ProvisioningServiceEntity(
    string SubscriptionId,
    string ResourceGroup,
    string Name,
    string Location,
    Dictionary<string, string> Tags,
    string SkuName,
    long SkuCapacity,
    string IdScope,
    string AllocationPolicy,
    List<LinkedHub> IotHubs,
    List<AccessPolicy> AuthorizationPolicies,
    string Etag,
    DateTimeOffset CreatedAt);

internal sealed record DpsCertificateEntity(
    string Dps,
    string Name,
    byte[] Der,
    bool IsVerified,
    string? VerificationCode,
    string Etag,
    DateTimeOffset Created,
    DateTimeOffset Updated);

internal sealed record IotHubEntity(
    string SubscriptionId,
    string ResourceGroup,
    string Name,
    string Location,
    Dictionary<string, string> Tags,
    string SkuName,
    long SkuCapacity,
    List<AccessPolicy> AuthorizationPolicies,
    string Etag,
    DateTimeOffset CreatedAt)
{
    public string HostName => Name.ToLowerInvariant() + ".azure-devices.net";
}

/// <summary>An enrollment group or an individual enrollment, kept as the JSON the service API accepted plus what the service adds.</summary>
internal sealed record EnrollmentEntity(
    string Dps,
    string Id,
    bool IsGroup,
    JsonObject Body,
    string Etag,
    DateTimeOffset Created,
    DateTimeOffset Updated);

internal sealed record RegistrationEntity(
    string Dps,
    string RegistrationId,
    string? EnrollmentGroupId,
    string? AssignedHub,
    string? DeviceId,
    string Status,
    string? Substatus,
    int? ErrorCode,
    string? ErrorMessage,
    string Etag,
    DateTimeOffset Created,
    DateTimeOffset Updated,
    string? Sha1Thumbprint,
    string? Sha256Thumbprint,
    JsonObject? Payload);

internal sealed record HubDeviceEntity(
    string Hub,
    string DeviceId,
    string AuthenticationType,
    string? PrimaryThumbprint,
    string? SecondaryThumbprint,
    bool IotEdge,
    string Status,
    JsonObject Tags,
    JsonObject Desired,
    string Etag,
    DateTimeOffset Created,
    DateTimeOffset Updated,
    string? PrimaryKey = null,
    string? SecondaryKey = null,
    string? StatusReason = null,
    DateTimeOffset? StatusUpdated = null,
    JsonObject? Reported = null,
    long DesiredVersion = 1,
    long ReportedVersion = 1,
    string? TwinEtag = null);

/// <summary>A device registration operation, kept so a device can poll it.</summary>
internal sealed record RegistrationOperationEntity(string OperationId, string Dps, string RegistrationId, DateTimeOffset Created, int HttpStatus, JsonObject Response);

internal static class ConnectionStrings
{
    public static Dictionary<string, string> Parse(string connectionString)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                result[part[..equals]] = part[(equals + 1)..];
            }
        }

        return result;
    }
}
