using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.State;

// The emulator's own records of what Azure would hold. They are persisted as JSON and mapped to the wire shapes by
// the endpoint code; they never leave the process as they are. Keys are lower-cased where Azure is case-insensitive.

public sealed record ResourceGroupEntity(string SubscriptionId, string Name, string Location, Dictionary<string, string> Tags);

public sealed record AccessPolicy(string KeyName, string PrimaryKey, string SecondaryKey, string Rights);

public sealed record LinkedHub(string ConnectionString, string Location, bool ApplyAllocationPolicy, int AllocationWeight)
{
    /// <summary>The hub host name, from the connection string's HostName.</summary>
    public string HostName => ConnectionStrings.Parse(ConnectionString).GetValueOrDefault("HostName") ?? string.Empty;
}

public sealed record ProvisioningServiceEntity(
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

public sealed record DpsCertificateEntity(
    string Dps,
    string Name,
    byte[] Der,
    bool IsVerified,
    string? VerificationCode,
    string Etag,
    DateTimeOffset Created,
    DateTimeOffset Updated);

public sealed record IotHubEntity(
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
public sealed record EnrollmentEntity(
    string Dps,
    string Id,
    bool IsGroup,
    JsonObject Body,
    string Etag,
    DateTimeOffset Created,
    DateTimeOffset Updated);

public sealed record RegistrationEntity(
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

public sealed record HubDeviceEntity(
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
    string? SecondaryKey = null);

/// <summary>A device registration operation, kept so a device can poll it.</summary>
public sealed record RegistrationOperationEntity(string OperationId, string Dps, string RegistrationId, DateTimeOffset Created, int HttpStatus, JsonObject Response);

public static class ConnectionStrings
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
