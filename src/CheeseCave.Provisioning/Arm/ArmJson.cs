using System.Globalization;
using System.Text.Json;
using Azure.Core;

namespace CheeseCave.Provisioning.Arm;

/// <summary>Reads ARM resource bodies into the library's records. Property names are matched ignoring case, as ARM does.</summary>
internal static class ArmJson
{
    public static JsonElement? Prop(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object) return null;
        if (element.TryGetProperty(name, out var exact)) return exact;
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) return property.Value;
        }

        return null;
    }

    public static string? Str(JsonElement element, string name) => Prop(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    public static bool? Bool(JsonElement element, string name) => Prop(element, name) switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { ValueKind: JsonValueKind.String } text when bool.TryParse(text.GetString(), out var flag) => flag,
        _ => null,
    };

    public static long? Long(JsonElement element, string name) => Prop(element, name) switch
    {
        { ValueKind: JsonValueKind.Number } number when number.TryGetInt64(out var value) => value,
        { ValueKind: JsonValueKind.String } text when long.TryParse(text.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) => value,
        _ => null,
    };

    public static DateTimeOffset? Date(JsonElement element, string name) =>
        Str(element, name) is { Length: > 0 } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
            ? date
            : null;

    public static IReadOnlyList<string> Rights(string? rights) =>
        (rights ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The resource group segment of an ARM id, or null.</summary>
    public static string? ResourceGroupOf(string? id)
    {
        if (string.IsNullOrEmpty(id)) return null;
        try
        {
            return new ResourceIdentifier(id).ResourceGroupName;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public static DpsAllocationPolicy? AllocationPolicy(string? value) =>
        Enum.TryParse<DpsAllocationPolicy>(value, ignoreCase: true, out var policy) && Enum.IsDefined(policy) ? policy : null;

    public static ProvisioningServiceInfo ProvisioningService(string name, string? resourceGroup, string location, string? skuName, long? skuCapacity, JsonElement properties)
    {
        var hubs = new List<LinkedIotHubInfo>();
        if (Prop(properties, "iotHubs") is { ValueKind: JsonValueKind.Array } items)
        {
            foreach (var hub in items.EnumerateArray())
            {
                var host = Str(hub, "name") ?? Str(hub, "hostName") ?? (Str(hub, "connectionString") is { } cs ? ConnectionStrings.HostNameOf(cs) : null);
                if (host is null) continue;
                hubs.Add(new LinkedIotHubInfo(host, Str(hub, "location"), (int)(Long(hub, "allocationWeight") ?? 1), Bool(hub, "applyAllocationPolicy") ?? true));
            }
        }

        return new ProvisioningServiceInfo(
            name,
            resourceGroup ?? string.Empty,
            location,
            Str(properties, "idScope"),
            Str(properties, "serviceOperationsHostName"),
            Str(properties, "deviceProvisioningHostName"),
            AllocationPolicy(Str(properties, "allocationPolicy")),
            hubs,
            Str(properties, "state"),
            Str(properties, "provisioningState"),
            skuName,
            skuCapacity);
    }

    /// <summary>A whole DPS resource body (GET, list item).</summary>
    public static ProvisioningServiceInfo ProvisioningService(JsonElement resource)
    {
        var sku = Prop(resource, "sku");
        return ProvisioningService(
            Str(resource, "name") ?? string.Empty,
            ResourceGroupOf(Str(resource, "id")) ?? Str(resource, "resourcegroup"),
            Str(resource, "location") ?? string.Empty,
            sku is { } s ? Str(s, "name") : null,
            sku is { } c ? Long(c, "capacity") : null,
            Prop(resource, "properties") ?? default);
    }

    public static IotHubInfo IotHub(string name, string? resourceGroup, string location, string? skuName, long? skuCapacity, JsonElement properties) =>
        new(name, resourceGroup ?? string.Empty, location, Str(properties, "hostName"), skuName, skuCapacity, Str(properties, "state"), Str(properties, "provisioningState"));

    public static IotHubInfo IotHub(JsonElement resource)
    {
        var sku = Prop(resource, "sku");
        return IotHub(
            Str(resource, "name") ?? string.Empty,
            ResourceGroupOf(Str(resource, "id")) ?? Str(resource, "resourcegroup"),
            Str(resource, "location") ?? string.Empty,
            sku is { } s ? Str(s, "name") : null,
            sku is { } c ? Long(c, "capacity") : null,
            Prop(resource, "properties") ?? default);
    }

    public static DpsCertificateInfo Certificate(JsonElement resource)
    {
        var properties = Prop(resource, "properties") ?? default;
        return new DpsCertificateInfo(
            Str(resource, "name") ?? string.Empty,
            Str(properties, "subject"),
            Str(properties, "thumbprint"),
            Bool(properties, "isVerified") ?? false,
            Date(properties, "expiry"),
            Date(properties, "created"),
            Date(properties, "updated"),
            Str(resource, "etag"));
    }

    public static AccessPolicyInfo Policy(JsonElement rule) =>
        new(Str(rule, "keyName") ?? string.Empty, Rights(Str(rule, "rights")), Str(rule, "primaryKey"), Str(rule, "secondaryKey"));

    /// <summary>The etag of a resource body (ARM puts it in the body; the ETag header is the fallback).</summary>
    public static string? Etag(JsonElement resource) => Str(resource, "etag");
}
