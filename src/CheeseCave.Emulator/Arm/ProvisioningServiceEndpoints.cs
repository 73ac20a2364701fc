using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// Microsoft.Devices/provisioningServices (docs/azure-wire.md §1): create/update as an LRO, get, tags, delete, lists,
/// name availability, listkeys and SKUs. The routes parse and render; <see cref="ProvisioningServiceStore"/> holds the rules.
/// </summary>
internal static class ProvisioningServiceEndpoints
{
    public static WebApplication MapProvisioningServiceEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var subscription = app.MapGroup("/subscriptions/{subscriptionId}/providers/Microsoft.Devices").AddEndpointFilter(ArmRequests.Filter);
        subscription.MapGet("/provisioningServices", (string subscriptionId, EmulatorContext ctx) =>
        {
            if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId)) return ArmEndpoints.SubscriptionNotFound(subscriptionId);
            return Results.Json(ArmJson.List(ProvisioningServiceStore.InSubscription(ctx, subscriptionId).Select(d => (JsonNode)ProvisioningServiceJson.Describe(ctx, d))));
        });
        subscription.MapPost("/checkProvisioningServiceNameAvailability", CheckNameAsync);

        var services = app.MapGroup("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Devices/provisioningServices")
            .AddEndpointFilter(ArmRequests.Filter);
        services.MapGet(string.Empty, (string subscriptionId, string resourceGroupName, EmulatorContext ctx) =>
        {
            ResourceGroupStore.Require(ctx, subscriptionId, resourceGroupName);
            return Results.Json(ArmJson.List(ProvisioningServiceStore.InGroup(ctx, subscriptionId, resourceGroupName).Select(d => (JsonNode)ProvisioningServiceJson.Describe(ctx, d))));
        });
        services.MapPut("/{provisioningServiceName}", PutAsync);
        services.MapGet("/{provisioningServiceName}", (string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
            Results.Json(ProvisioningServiceJson.Describe(ctx, ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName))));
        services.MapMethods("/{provisioningServiceName}", ["HEAD"], (string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
        {
            ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            return Results.NoContent(); // ARM's existence check (Resources_CheckExistenceById): 204 or 404
        });
        services.MapPatch("/{provisioningServiceName}", PatchAsync);
        services.MapDelete("/{provisioningServiceName}", DeleteAsync);
        services.MapGet("/{provisioningServiceName}/operationresults/{operationId}", (string subscriptionId, string operationId, EmulatorContext ctx) =>
            ArmEndpoints.KnownSubscription(ctx, subscriptionId) ? ArmRequests.OperationResult(operationId) : ArmEndpoints.SubscriptionNotFound(subscriptionId));
        services.MapPost("/{provisioningServiceName}/listkeys", (string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
            Results.Json(ArmJson.List(ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName)
                .AuthorizationPolicies.Select(p => (JsonNode)ArmRequests.PolicyWithKeys(p)))));
        services.MapPost("/{provisioningServiceName}/keys/{keyName}/listkeys", (string subscriptionId, string resourceGroupName, string provisioningServiceName, string keyName, EmulatorContext ctx) =>
        {
            var dps = ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            var policy = AccessPolicyRules.Find(dps.AuthorizationPolicies, keyName)
                ?? throw ArmErrors.KeyNameNotFound("provisioning service", dps.Name, keyName, dps.AuthorizationPolicies.Select(p => p.KeyName));
            return Results.Json(ArmRequests.PolicyWithKeys(policy));
        });
        services.MapGet("/{provisioningServiceName}/skus", (string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
        {
            ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            return Results.Json(ArmJson.List([new JsonObject { ["name"] = "S1" }]));
        });
        return app;
    }

    private static async Task<IResult> CheckNameAsync(string subscriptionId, HttpRequest request, EmulatorContext ctx)
    {
        if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId)) return ArmEndpoints.SubscriptionNotFound(subscriptionId);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var name = ArmRequests.OptionalString(body, "name", "name");
        if (string.IsNullOrEmpty(name)) throw ArmErrors.NameToCheckRequired("provisioning service");
        if (!ArmNames.IsValidDevicesResourceName(name)) return Results.Json(ArmRequests.NameAvailability(false, "Invalid", ArmNames.InvalidProvisioningServiceNameMessage(name)));
        return ProvisioningServiceStore.Exists(ctx, name)
            ? Results.Json(ArmRequests.NameAvailability(false, "AlreadyExists", $"The provisioning service name '{name}' is already taken: names are global because they form the host name {name.ToLowerInvariant()}.azure-devices-provisioning.net."))
            : Results.Json(ArmRequests.NameAvailability(true, null, "name is valid"));
    }

    private static async Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, HttpContext http, EmulatorContext ctx)
    {
        ResourceGroupStore.Require(ctx, subscriptionId, resourceGroupName);
        ProvisioningServiceStore.RequireValidName(provisioningServiceName);
        var body = await ArmRequests.ReadBodyAsync(http.Request, required: true).ConfigureAwait(false);
        var definition = ProvisioningServiceDefinition.FromBody(body);
        var (dps, created) = await ProvisioningServiceStore.PutAsync(ctx, subscriptionId, resourceGroupName, provisioningServiceName, definition, IfMatch.Of(http.Request)).ConfigureAwait(false);
        var description = ProvisioningServiceJson.Describe(ctx, dps);
        return created ? ArmRequests.CreatedAsync(http, ctx, ProvisioningServiceJson.PathOf(dps), description) : Results.Json(description);
    }

    private static async Task<IResult> PatchAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, HttpRequest request, EmulatorContext ctx)
    {
        ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var tags = ArmRequests.OptionalTags(body) ?? throw ArmErrors.ProvisioningServiceTagsRequired();
        var dps = await ProvisioningServiceStore.UpdateTagsAsync(ctx, subscriptionId, resourceGroupName, provisioningServiceName, tags).ConfigureAwait(false);
        return Results.Json(ProvisioningServiceJson.Describe(ctx, dps));
    }

    /// <summary>Answers 200 at once (docs/azure-wire.md §1.5's simplest interoperable answer; a missing DPS: 204, as ARM).</summary>
    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
        await ProvisioningServiceStore.DeleteAsync(ctx, subscriptionId, resourceGroupName, provisioningServiceName).ConfigureAwait(false) ? Results.Ok() : Results.NoContent();
}
