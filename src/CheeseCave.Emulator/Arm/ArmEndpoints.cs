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
                return ArmErrors.InvalidResourceNamespace(providerNamespace).ToResult();
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
            // Not behind ArmRequests.Filter (these routes need no api-version), so errors are rendered, not thrown.
            if (!KnownSubscription(ctx, subscriptionId)) return SubscriptionNotFound(subscriptionId);
            try
            {
                ResourceGroupStore.RequireValidName(resourceGroupName);
                var body = await ArmJson.ReadBodyAsync(request).ConfigureAwait(false);
                var (group, created) = await ResourceGroupStore.PutAsync(ctx, subscriptionId, resourceGroupName, body?["location"]?.GetValue<string>(), ArmJson.ReadTags(body)).ConfigureAwait(false);
                return Results.Json(ResourceGroup(group), statusCode: created ? 201 : 200);
            }
            catch (ArmErrorException ex)
            {
                return ex.ToResult();
            }
        });
        app.MapDelete(groups + "/{resourceGroupName}", async (string subscriptionId, string resourceGroupName, EmulatorContext ctx) =>
        {
            try
            {
                await ResourceGroupStore.DeleteAsync(ctx, subscriptionId, resourceGroupName).ConfigureAwait(false);
                return Results.Ok();
            }
            catch (ArmErrorException ex)
            {
                return ex.ToResult();
            }
        });
    }

    public static bool KnownSubscription(EmulatorContext ctx, string subscriptionId) =>
        subscriptionId.Equals(ctx.Options.SubscriptionId, StringComparison.OrdinalIgnoreCase);

    public static IResult SubscriptionNotFound(string subscriptionId) => ArmErrors.SubscriptionNotFound(subscriptionId).ToResult();

    public static IResult ResourceGroupNotFound(string name) => ArmErrors.ResourceGroupNotFound(name).ToResult();

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
