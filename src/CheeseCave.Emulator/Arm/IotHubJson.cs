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

    public static JsonObject Describe(IotHubEntity hub)
    {
        ArgumentNullException.ThrowIfNull(hub);
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
            ["properties"] = new JsonObject
            {
                ["state"] = "Active",
                ["provisioningState"] = "Succeeded",
                ["hostName"] = hub.HostName,
                ["publicNetworkAccess"] = "Enabled",
                ["features"] = "None",
                ["disableLocalAuth"] = false,
                ["locations"] = new JsonArray(new JsonObject { ["location"] = hub.Location, ["role"] = "primary" }),
            },
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
