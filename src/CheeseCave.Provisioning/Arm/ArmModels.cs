namespace CheeseCave.Provisioning.Arm;

/// <summary>DPS allocation policy as ARM spells it (PascalCase; enrollments use camelCase, see DpsService.AllocationPolicy).</summary>
public enum DpsAllocationPolicy
{
    /// <summary>Evenly weighted distribution across the linked hubs.</summary>
    Hashed,

    /// <summary>The hub with the lowest latency to the device.</summary>
    GeoLatency,

    /// <summary>Always the one hub of the enrollment.</summary>
    Static,
}

public sealed record SubscriptionInfo(string SubscriptionId, string? DisplayName, string? TenantId, string? State);

public sealed record ResourceGroupInfo(string Name, string Location, string? ProvisioningState);

/// <summary>A hub linked to a DPS. Its connection string (a secret) is never returned.</summary>
public sealed record LinkedIotHubInfo(string HostName, string? Location, int AllocationWeight, bool ApplyAllocationPolicy);

/// <summary>A Device Provisioning Service as the portal shows it. No keys, no etag.</summary>
public sealed record ProvisioningServiceInfo(
    string Name,
    string ResourceGroup,
    string Location,
    string? IdScope,
    string? ServiceHost,
    string? DeviceHost,
    DpsAllocationPolicy? AllocationPolicy,
    IReadOnlyList<LinkedIotHubInfo> LinkedHubs,
    string? State,
    string? ProvisioningState = null,
    string? SkuName = null,
    long? SkuCapacity = null);

/// <summary>
/// A CA certificate of a DPS. Thumbprint is SHA-1 hex (what DPS shows); dates are UTC (DPS gives whole seconds).
/// <paramref name="ETag"/> changes with every change (a new verification code, a re-upload): callers may compare it to
/// tell whether the certificate changed, but should not show it.
/// </summary>
public sealed record DpsCertificateInfo(
    string Name,
    string? Subject,
    string? Thumbprint,
    bool IsVerified,
    DateTimeOffset? Expiry,
    DateTimeOffset? Created,
    DateTimeOffset? Updated,
    string? ETag = null);

/// <summary>A fresh proof-of-possession code: the CN the verification certificate must carry.</summary>
public sealed record DpsVerificationCode(string Code, DpsCertificateInfo Certificate);

public sealed record IotHubInfo(
    string Name,
    string ResourceGroup,
    string Location,
    string? HostName,
    string? SkuName,
    long? SkuCapacity,
    string? State,
    string? ProvisioningState);

/// <summary>
/// A shared access policy of an IoT hub or a DPS, with its keys (secrets: ToString never shows them).
/// </summary>
public sealed record AccessPolicyInfo(string KeyName, IReadOnlyList<string> Rights, string? PrimaryKey, string? SecondaryKey)
{
    public const string IotHubOwner = "iothubowner";

    public const string ProvisioningServiceOwner = "provisioningserviceowner";

    public bool HasRight(string right) => Rights.Contains(right, StringComparer.OrdinalIgnoreCase);

    /// <summary>What DPS needs on a linked hub's policy to create devices there: RegistryWrite and ServiceConnect.</summary>
    public bool CanProvisionDevices => HasRight("RegistryWrite") && HasRight("ServiceConnect");

    /// <summary>HostName=..;SharedAccessKeyName=..;SharedAccessKey=.. with the primary key.</summary>
    public string ToConnectionString(string hostName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        if (string.IsNullOrEmpty(PrimaryKey))
        {
            throw new InvalidOperationException($"The policy '{KeyName}' was read without its keys; list the keys (listkeys) to build a connection string.");
        }

        return $"HostName={hostName};SharedAccessKeyName={KeyName};SharedAccessKey={PrimaryKey}";
    }

    public override string ToString() => $"{KeyName} ({string.Join(", ", Rights)})";
}

public sealed record NameAvailabilityInfo(bool IsAvailable, string? Reason, string? Message);

/// <summary>What a new DPS needs. Location is an ARM location name such as "eastus" or "West Europe".</summary>
public sealed record ProvisioningServiceCreateOptions(string ResourceGroup, string Name, string Location)
{
    public DpsAllocationPolicy AllocationPolicy { get; init; } = DpsAllocationPolicy.Hashed;

    /// <summary>Units of the S1 SKU.</summary>
    public long SkuCapacity { get; init; } = 1;

    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}

/// <summary>What a new IoT hub needs. SkuName is F1, S1, S2, S3, B1, B2 or B3.</summary>
public sealed record IotHubCreateOptions(string ResourceGroup, string Name, string Location)
{
    public string SkuName { get; init; } = "S1";

    public long SkuCapacity { get; init; } = 1;

    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}

/// <summary>A hub to link to a DPS: the hub's connection string (iothubowner or another policy with RegistryWrite and ServiceConnect).</summary>
public sealed record LinkIotHubOptions(string ConnectionString, string Location)
{
    /// <summary>1 to 1000: how much of the hashed allocation goes to this hub.</summary>
    public int AllocationWeight { get; init; } = 1;

    /// <summary>Whether the DPS allocation policy may pick this hub.</summary>
    public bool ApplyAllocationPolicy { get; init; } = true;

    /// <summary>Never shows the key.</summary>
    public override string ToString() => $"Link to {ConnectionStrings.HostNameOf(ConnectionString) ?? "(hub)"} in {Location}";
}

/// <summary>Options of <see cref="ArmProvisioningClient"/>.</summary>
public sealed class ArmProvisioningClientOptions : Configuration.ProvisioningClientOptions
{
    /// <summary>How often a long-running create is polled when the service names no Retry-After.</summary>
    public TimeSpan OperationPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Test hook: wraps the HTTP handler (to observe or alter traffic).</summary>
    internal Func<HttpMessageHandler, HttpMessageHandler>? WrapHandler { get; set; }
}

/// <summary>Connection strings: "Key=value;Key=value", split on ';' and then on the first '='.</summary>
public static class ConnectionStrings
{
    public static IReadOnlyDictionary<string, string> Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) continue;
            result[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        return result;
    }

    public static string? HostNameOf(string connectionString) =>
        Parse(connectionString).TryGetValue("HostName", out var host) && host.Length > 0 ? host : null;
}
