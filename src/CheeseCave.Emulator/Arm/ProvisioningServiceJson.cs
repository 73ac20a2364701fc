using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>How a provisioning service looks on the wire (docs/azure-wire.md §1.1).</summary>
internal static class ProvisioningServiceJson
{
    public const string ResourceType = "Microsoft.Devices/ProvisioningServices";

    /// <summary>How GET shows a linked hub's key: like Azure, keys are never echoed.</summary>
    public const string MaskedKey = "****";

    public static string PathOf(ProvisioningServiceEntity dps)
    {
        ArgumentNullException.ThrowIfNull(dps);
        return $"{ArmRequests.GroupPath(dps.SubscriptionId, ArmRequests.Escape(dps.ResourceGroup))}/providers/{ResourceType}/{dps.Name}";
    }

    /// <summary>The GET/PUT body. Keys stay out: policies carry names and rights, hub links a masked key.</summary>
    public static JsonObject Describe(EmulatorContext ctx, ProvisioningServiceEntity dps)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(dps);
        var hubs = new JsonArray();
        foreach (var hub in dps.IotHubs)
        {
            hubs.Add(new JsonObject
            {
                ["applyAllocationPolicy"] = hub.ApplyAllocationPolicy,
                ["allocationWeight"] = hub.AllocationWeight,
                ["name"] = hub.HostName,
                ["hostName"] = hub.HostName,
                ["connectionString"] = Masked(hub.ConnectionString),
                ["location"] = hub.Location,
            });
        }

        var policies = new JsonArray();
        foreach (var policy in dps.AuthorizationPolicies)
        {
            policies.Add(new JsonObject { ["keyName"] = policy.KeyName, ["rights"] = policy.Rights });
        }

        return new JsonObject
        {
            ["id"] = PathOf(dps),
            ["name"] = dps.Name,
            ["type"] = ResourceType,
            ["location"] = dps.Location,
            ["tags"] = ArmJson.Tags(dps.Tags),
            ["etag"] = dps.Etag,
            ["resourcegroup"] = dps.ResourceGroup,
            ["subscriptionid"] = dps.SubscriptionId,
            ["sku"] = new JsonObject { ["name"] = dps.SkuName, ["tier"] = "Standard", ["capacity"] = dps.SkuCapacity },
            ["properties"] = new JsonObject
            {
                ["state"] = "Active",
                ["provisioningState"] = "Succeeded",
                ["publicNetworkAccess"] = "Enabled",
                ["ipFilterRules"] = new JsonArray(),
                ["privateEndpointConnections"] = new JsonArray(),
                ["iotHubs"] = hubs,
                ["allocationPolicy"] = dps.AllocationPolicy,
                ["serviceOperationsHostName"] = ctx.HttpsHost,
                ["deviceProvisioningHostName"] = ctx.HttpsHost,
                ["idScope"] = dps.IdScope,
                ["authorizationPolicies"] = policies,
                ["enableDataResidency"] = false,
            },
            ["systemData"] = new JsonObject { ["createdAt"] = dps.CreatedAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture) },
        };
    }

    private static string Masked(string connectionString)
    {
        var parts = ConnectionStrings.Parse(connectionString);
        return $"HostName={parts.GetValueOrDefault("HostName")};SharedAccessKeyName={parts.GetValueOrDefault("SharedAccessKeyName")};SharedAccessKey={MaskedKey}";
    }
}
