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

    /// <summary>
    /// The GET/PUT body. While an operation runs (or when answering the request that started it, <paramref name="startedBy"/>)
    /// provisioningState is "Accepted", and a DPS being created has no idScope yet. authorizationPolicies appear only
    /// in the answer to a PUT that sent them (<paramref name="echoPolicies"/>, with keys, as Azure echoes them); hub
    /// links carry a masked key.
    /// </summary>
    public static JsonObject Describe(EmulatorContext ctx, ProvisioningServiceEntity dps, ArmOperation? startedBy = null, IReadOnlyList<AccessPolicy>? echoPolicies = null)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(dps);
        var running = startedBy ?? ctx.LongOperations.Pending(ArmKeys.ProvisioningService(dps.Name));
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

        var properties = new JsonObject
        {
            ["state"] = running?.Kind == ArmOperationKind.Create ? "Activating" : "Active",
            ["provisioningState"] = running is null ? "Succeeded" : "Accepted",
            ["publicNetworkAccess"] = "Enabled",
            ["ipFilterRules"] = new JsonArray(),
            ["privateEndpointConnections"] = new JsonArray(),
            ["iotHubs"] = hubs,
            ["allocationPolicy"] = dps.AllocationPolicy,
            ["serviceOperationsHostName"] = ctx.HttpsHost,
            ["deviceProvisioningHostName"] = ctx.HttpsHost,
            ["idScope"] = running?.Kind == ArmOperationKind.Create ? null : dps.IdScope,
        };
        if (echoPolicies is not null)
        {
            properties["authorizationPolicies"] = new JsonArray([.. echoPolicies.Select(p => (JsonNode)ArmRequests.PolicyWithKeys(p))]);
        }

        properties["enableDataResidency"] = false;
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
            ["properties"] = properties,
            ["systemData"] = new JsonObject { ["createdAt"] = dps.CreatedAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture) },
        };
    }

    private static string Masked(string connectionString)
    {
        var parts = ConnectionStrings.Parse(connectionString);
        return $"HostName={parts.GetValueOrDefault("HostName")};SharedAccessKeyName={parts.GetValueOrDefault("SharedAccessKeyName")};SharedAccessKey={MaskedKey}";
    }
}
