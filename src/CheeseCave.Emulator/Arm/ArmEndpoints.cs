using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>The Azure Resource Manager subset: subscription, resource groups, provider metadata, DPS, DPS certificates, IoT hubs.</summary>
internal static class ArmEndpoints
{
    public const string TenantId = "00000000-0000-4000-8000-0000000c4e5e";

    public static WebApplication MapArmEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapArmBasics();
        app.MapProvisioningServiceEndpoints();
        app.MapDpsCertificateEndpoints();
        app.MapIotHubEndpoints();
        return app;
    }

    private static void MapArmBasics(this WebApplication app)
    {
        app.MapGet("/subscriptions", (EmulatorContext ctx) => Results.Json(new JsonObject { ["value"] = new JsonArray(Subscription(ctx)) }));
        app.MapGet("/subscriptions/{subscriptionId}", (string subscriptionId, EmulatorContext ctx) =>
            KnownSubscription(ctx, subscriptionId) ? Results.Json(Subscription(ctx)) : SubscriptionNotFound(subscriptionId));

        app.MapGet("/subscriptions/{subscriptionId}/providers/{providerNamespace}", (string subscriptionId, string providerNamespace, EmulatorContext ctx) =>
        {
            if (!KnownSubscription(ctx, subscriptionId)) return SubscriptionNotFound(subscriptionId);
            if (!providerNamespace.Equals("Microsoft.Devices", StringComparison.OrdinalIgnoreCase))
            {
                return ErrorResponses.Arm(404, "InvalidResourceNamespace", $"The resource namespace '{providerNamespace}' is invalid or not emulated; the emulator serves Microsoft.Devices.");
            }

            return Results.Json(DevicesProvider(subscriptionId));
        });
        app.MapGet("/providers/Microsoft.Devices/operations", () => Results.Json(new JsonObject { ["value"] = new JsonArray() }));

        var groups = "/subscriptions/{subscriptionId}/resourcegroups";
        app.MapGet(groups, (string subscriptionId, EmulatorContext ctx) =>
        {
            if (!KnownSubscription(ctx, subscriptionId)) return SubscriptionNotFound(subscriptionId);
            var items = ctx.Store.ResourceGroups.All.Where(g => g.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase))
                .OrderBy(g => g.Name, StringComparer.OrdinalIgnoreCase).Select(g => (JsonNode)ResourceGroup(g));
            return Results.Json(new JsonObject { ["value"] = new JsonArray([.. items]) });
        });
        app.MapGet(groups + "/{resourceGroupName}", (string subscriptionId, string resourceGroupName, EmulatorContext ctx) =>
            ctx.Store.ResourceGroups.Get(ArmKeys.ResourceGroup(subscriptionId, resourceGroupName)) is { } group
                ? Results.Json(ResourceGroup(group))
                : ResourceGroupNotFound(resourceGroupName));
        app.MapMethods(groups + "/{resourceGroupName}", ["HEAD"], (string subscriptionId, string resourceGroupName, EmulatorContext ctx) =>
            Results.StatusCode(ctx.Store.ResourceGroups.Get(ArmKeys.ResourceGroup(subscriptionId, resourceGroupName)) is null ? 404 : 204));
        app.MapPut(groups + "/{resourceGroupName}", async (string subscriptionId, string resourceGroupName, HttpRequest request, EmulatorContext ctx) =>
        {
            if (!KnownSubscription(ctx, subscriptionId)) return SubscriptionNotFound(subscriptionId);
            if (!ArmNames.IsValidResourceGroupName(resourceGroupName))
            {
                return ErrorResponses.Arm(400, "InvalidResourceGroupName", $"'{resourceGroupName}' is not a valid resource group name: 1-90 letters, digits, '.', '_', '-', '(' or ')', not ending in '.'.");
            }

            var body = await ArmJson.ReadBodyAsync(request).ConfigureAwait(false);
            if (body?["location"]?.GetValue<string>() is not { Length: > 0 } location)
            {
                return ErrorResponses.Arm(400, "LocationRequired", "The location property is required for this definition.");
            }

            var key = ArmKeys.ResourceGroup(subscriptionId, resourceGroupName);
            var existing = ctx.Store.ResourceGroups.Get(key);
            var tags = ArmJson.ReadTags(body) ?? existing?.Tags ?? [];
            var entity = new ResourceGroupEntity(subscriptionId, existing?.Name ?? resourceGroupName, existing?.Location ?? ArmNames.NormalizeLocation(location), tags);
            await ctx.Store.WriteAsync(tx => tx.Put(ctx.Store.ResourceGroups, key, entity)).ConfigureAwait(false);
            return Results.Json(ResourceGroup(entity), statusCode: existing is null ? 201 : 200);
        });
        app.MapDelete(groups + "/{resourceGroupName}", async (string subscriptionId, string resourceGroupName, EmulatorContext ctx) =>
        {
            var key = ArmKeys.ResourceGroup(subscriptionId, resourceGroupName);
            if (ctx.Store.ResourceGroups.Get(key) is null) return ResourceGroupNotFound(resourceGroupName);
            var inGroup = ctx.Store.ProvisioningServices.All.Any(d => ArmKeys.ResourceGroup(d.SubscriptionId, d.ResourceGroup) == key)
                || ctx.Store.IotHubs.All.Any(h => ArmKeys.ResourceGroup(h.SubscriptionId, h.ResourceGroup) == key);
            if (inGroup)
            {
                return ErrorResponses.Arm(409, "ResourceGroupNotEmpty", $"The resource group '{resourceGroupName}' still holds provisioning services or IoT hubs; the emulator deletes only empty groups. Delete them first.");
            }

            await ctx.Store.WriteAsync(tx => tx.Delete(ctx.Store.ResourceGroups, key)).ConfigureAwait(false);
            return Results.Ok();
        });
    }

    public static bool KnownSubscription(EmulatorContext ctx, string subscriptionId) =>
        subscriptionId.Equals(ctx.Options.SubscriptionId, StringComparison.OrdinalIgnoreCase);

    public static IResult SubscriptionNotFound(string subscriptionId) =>
        ErrorResponses.Arm(404, "SubscriptionNotFound", $"The subscription '{subscriptionId}' could not be found. The emulator has one subscription: see subscriptionId in endpoints.json.");

    public static IResult ResourceGroupNotFound(string name) =>
        ErrorResponses.Arm(404, "ResourceGroupNotFound", $"Resource group '{name}' could not be found.");

    /// <summary>The resource group must exist, as on Azure; returns the error to send, or null.</summary>
    public static IResult? RequireResourceGroup(EmulatorContext ctx, string subscriptionId, string resourceGroupName)
    {
        if (!KnownSubscription(ctx, subscriptionId)) return SubscriptionNotFound(subscriptionId);
        return ctx.Store.ResourceGroups.Get(ArmKeys.ResourceGroup(subscriptionId, resourceGroupName)) is null ? ResourceGroupNotFound(resourceGroupName) : null;
    }

    private static JsonObject Subscription(EmulatorContext ctx) => new()
    {
        ["id"] = $"/subscriptions/{ctx.Options.SubscriptionId}",
        ["subscriptionId"] = ctx.Options.SubscriptionId,
        ["tenantId"] = TenantId,
        ["displayName"] = "CheeseCave Emulator",
        ["state"] = "Enabled",
        ["authorizationSource"] = "RoleBased",
        ["managedByTenants"] = new JsonArray(),
        ["subscriptionPolicies"] = new JsonObject { ["locationPlacementId"] = "Public_2014-09-01", ["quotaId"] = "PayAsYouGo_2014-09-01", ["spendingLimit"] = "Off" },
        ["tags"] = new JsonObject(),
    };

    private static JsonObject ResourceGroup(ResourceGroupEntity group) => new()
    {
        ["id"] = $"/subscriptions/{group.SubscriptionId}/resourceGroups/{group.Name}",
        ["name"] = group.Name,
        ["type"] = "Microsoft.Resources/resourceGroups",
        ["location"] = group.Location,
        ["tags"] = ArmJson.Tags(group.Tags),
        ["properties"] = new JsonObject { ["provisioningState"] = "Succeeded" },
    };

    private static JsonObject DevicesProvider(string subscriptionId)
    {
        JsonObject Type(string name, params string[] versions) => new()
        {
            ["resourceType"] = name,
            ["locations"] = new JsonArray("East US", "West Europe", "Southeast Asia"),
            ["apiVersions"] = new JsonArray([.. versions.Select(v => (JsonNode)v)]),
            ["capabilities"] = "None",
        };

        return new JsonObject
        {
            ["id"] = $"/subscriptions/{subscriptionId}/providers/Microsoft.Devices",
            ["namespace"] = "Microsoft.Devices",
            ["registrationState"] = "Registered",
            ["registrationPolicy"] = "RegistrationRequired",
            ["resourceTypes"] = new JsonArray(
                Type("IotHubs", "2023-06-30"),
                Type("IotHubs/certificates", "2023-06-30"),
                Type("ProvisioningServices", "2022-02-05", "2026-08-31"),
                Type("ProvisioningServices/certificates", "2022-02-05", "2026-08-31"),
                Type("checkNameAvailability", "2023-06-30"),
                Type("checkProvisioningServiceNameAvailability", "2022-02-05"),
                Type("operations", "2023-06-30", "2022-02-05")),
        };
    }
}
