using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// What a DPS PUT asks for, read from its body in the order Azure checks it (location, tags, sku, allocation
/// policy); the hub links and policies stay JSON until the store resolves them against the current state.
/// </summary>
internal sealed record ProvisioningServiceDefinition(
    string Location,
    Dictionary<string, string>? Tags,
    long? Capacity,
    string? AllocationPolicy,
    JsonArray? IotHubs,
    JsonArray? AuthorizationPolicies)
{
    public static readonly IReadOnlyList<string> AllocationPolicies = ["Hashed", "GeoLatency", "Static"];

    public static ProvisioningServiceDefinition FromBody(JsonObject? body)
    {
        var location = ArmRequests.OptionalString(body, "location", "location");
        if (string.IsNullOrWhiteSpace(location))
        {
            throw ArmErrors.LocationRequired();
        }

        var tags = ArmRequests.OptionalTags(body);
        var sku = ArmRequests.OptionalObject(body, "sku", "sku");
        var skuName = ArmRequests.OptionalString(sku, "name", "sku.name");
        if (skuName is not null && !skuName.Equals("S1", StringComparison.OrdinalIgnoreCase))
        {
            throw ArmErrors.ProvisioningServiceSkuUnknown(skuName);
        }

        var capacity = ArmRequests.OptionalInteger(sku, "capacity", "sku.capacity");
        if (capacity is < 1)
        {
            throw ArmErrors.InvalidSkuCapacity();
        }

        var properties = ArmRequests.OptionalObject(body, "properties", "properties");
        var allocationText = ArmRequests.OptionalString(properties, "allocationPolicy", "properties.allocationPolicy");
        string? allocation = null;
        if (allocationText is not null)
        {
            allocation = AllocationPolicies.FirstOrDefault(p => p.Equals(allocationText, StringComparison.OrdinalIgnoreCase))
                ?? throw ArmErrors.InvalidAllocationPolicy(allocationText, AllocationPolicies);
        }

        return new ProvisioningServiceDefinition(
            ArmNames.NormalizeLocation(location),
            tags,
            capacity,
            allocation,
            ArmRequests.OptionalArray(properties, "iotHubs", "properties.iotHubs"),
            ArmRequests.OptionalArray(properties, "authorizationPolicies", "properties.authorizationPolicies"));
    }
}
