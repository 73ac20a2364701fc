using System.Text.Json.Nodes;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>How an IoT hub looks on the wire (docs/azure-wire.md §3).</summary>
internal static class IotHubJson
{
    public const string ResourceType = "Microsoft.Devices/IotHubs";

    public static string PathOf(IotHubEntity hub)
    {
        ArgumentNullException.ThrowIfNull(hub);
        return $"{ArmRequests.GroupPath(hub.SubscriptionId, ArmRequests.Escape(hub.ResourceGroup))}/providers/{ResourceType}/{hub.Name}";
    }

    /// <summary>The key a hub's long-running operations are filed under (apart from DPS instances of the same name).</summary>
    public static string OperationKey(string name) => "IotHubs/" + Hosting.ArmKeys.IotHub(name);

    /// <summary>
    /// The GET/PUT body. While a create runs (or when answering the PUT that started it) the hub is "Activating" and
    /// "Accepted" without a hostName yet, as in Azure's recorded create answer; while an update runs, "Accepted".
    /// </summary>
    public static JsonObject Describe(Hosting.EmulatorContext ctx, IotHubEntity hub, ArmOperation? startedBy = null)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(hub);
        var running = startedBy ?? ctx.LongOperations.Pending(OperationKey(hub.Name));
        var properties = new JsonObject
        {
            ["state"] = running?.Kind == ArmOperationKind.Create ? "Activating" : "Active",
            ["provisioningState"] = running is null ? "Succeeded" : "Accepted",
        };
        if (running?.Kind != ArmOperationKind.Create) properties["hostName"] = hub.HostName;
        properties["publicNetworkAccess"] = "Enabled";
        properties["features"] = "None";
        properties["disableLocalAuth"] = false;
        properties["locations"] = new JsonArray(new JsonObject { ["location"] = hub.Location, ["role"] = "primary" });
        return new JsonObject
        {
            ["id"] = PathOf(hub),
            ["name"] = hub.Name,
            ["type"] = ResourceType,
            ["location"] = hub.Location,
            ["tags"] = ArmJson.Tags(hub.Tags),
            ["etag"] = hub.Etag,
            ["resourcegroup"] = hub.ResourceGroup,
            ["subscriptionid"] = hub.SubscriptionId,
            ["sku"] = new JsonObject { ["name"] = hub.SkuName, ["tier"] = Tier(hub.SkuName), ["capacity"] = hub.SkuCapacity },
            ["properties"] = properties,
            ["systemData"] = new JsonObject { ["createdAt"] = hub.CreatedAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture) },
        };
    }

    private static string Tier(string sku) => sku[0] switch
    {
        'F' => "Free",
        'B' => "Basic",
        _ => "Standard",
    };
}
