using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// Microsoft.Devices/IotHubs (docs/azure-wire.md §3): create/update as an LRO, get, list, tags, delete, listkeys and
/// name availability. Only what DPS linking and the portal need: no routing, endpoints or certificates. The routes
/// parse and render; <see cref="IotHubStore"/> holds the rules.
/// </summary>
internal static class IotHubEndpoints
{
    /// <summary>Where hub operations report, under /subscriptions/{sub}/providers/Microsoft.Devices/locations/{region}/ (recorded as such).</summary>
    public const string OperationResultsSegment = "operationResults";

    public static WebApplication MapIotHubEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var subscription = app.MapGroup("/subscriptions/{subscriptionId}/providers/Microsoft.Devices").AddEndpointFilter(ArmRequests.Filter);
        subscription.MapGet("/IotHubs", (string subscriptionId, EmulatorContext ctx) =>
        {
            if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId)) return ArmEndpoints.SubscriptionNotFound(subscriptionId);
            return Results.Json(ArmJson.List(IotHubStore.InSubscription(ctx, subscriptionId).Select(h => (JsonNode)IotHubJson.Describe(ctx, h))));
        });
        subscription.MapPost("/checkNameAvailability", CheckNameAsync);
        subscription.MapGet("/locations/{location}/" + OperationResultsSegment + "/{operationId}", (string subscriptionId, string operationId, HttpRequest request, EmulatorContext ctx) =>
            ArmEndpoints.KnownSubscription(ctx, subscriptionId) ? ArmRequests.OperationStatus(request, ctx, operationId) : ArmEndpoints.SubscriptionNotFound(subscriptionId));

        var hubs = app.MapGroup("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Devices/IotHubs")
            .AddEndpointFilter(ArmRequests.Filter);
        hubs.MapGet(string.Empty, (string subscriptionId, string resourceGroupName, EmulatorContext ctx) =>
        {
            ResourceGroupStore.Require(ctx, subscriptionId, resourceGroupName);
            return Results.Json(ArmJson.List(IotHubStore.InGroup(ctx, subscriptionId, resourceGroupName).Select(h => (JsonNode)IotHubJson.Describe(ctx, h))));
        });
        hubs.MapPut("/{resourceName}", PutAsync);
        hubs.MapGet("/{resourceName}", (string subscriptionId, string resourceGroupName, string resourceName, EmulatorContext ctx) =>
            Results.Json(IotHubJson.Describe(ctx, IotHubStore.Require(ctx, subscriptionId, resourceGroupName, resourceName))));
        hubs.MapMethods("/{resourceName}", ["HEAD"], (string subscriptionId, string resourceGroupName, string resourceName, EmulatorContext ctx) =>
        {
            IotHubStore.Require(ctx, subscriptionId, resourceGroupName, resourceName);
            return Results.NoContent(); // ARM's existence check: 204 or 404
        });
        hubs.MapPatch("/{resourceName}", PatchAsync);
        hubs.MapDelete("/{resourceName}", DeleteAsync);
        hubs.MapGet("/{resourceName}/operationresults/{operationId}", (string subscriptionId, string operationId, EmulatorContext ctx) =>
            ArmEndpoints.KnownSubscription(ctx, subscriptionId) ? ArmRequests.OperationResult(ctx, operationId) : ArmEndpoints.SubscriptionNotFound(subscriptionId));
        hubs.MapPost("/{resourceName}/listkeys", (string subscriptionId, string resourceGroupName, string resourceName, EmulatorContext ctx) =>
            Results.Json(ArmJson.List(IotHubStore.Require(ctx, subscriptionId, resourceGroupName, resourceName).AuthorizationPolicies.Select(p => (JsonNode)ArmRequests.PolicyWithKeys(p)))));
        hubs.MapPost("/{resourceName}/IotHubKeys/{keyName}/listkeys", (string subscriptionId, string resourceGroupName, string resourceName, string keyName, EmulatorContext ctx) =>
        {
            var hub = IotHubStore.Require(ctx, subscriptionId, resourceGroupName, resourceName);
            var policy = AccessPolicyRules.Find(hub.AuthorizationPolicies, keyName)
                ?? throw ArmErrors.KeyNameNotFound("IoT hub", hub.Name, keyName, hub.AuthorizationPolicies.Select(p => p.KeyName));
            return Results.Json(ArmRequests.PolicyWithKeys(policy));
        });
        return app;
    }

    private static async Task<IResult> CheckNameAsync(string subscriptionId, HttpRequest request, EmulatorContext ctx)
    {
        if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId)) return ArmEndpoints.SubscriptionNotFound(subscriptionId);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var name = ArmRequests.OptionalString(body, "name", "name");
        if (string.IsNullOrEmpty(name)) throw ArmErrors.NameToCheckRequired("IoT hub");
        if (!ArmNames.IsValidDevicesResourceName(name)) return Results.Json(ArmRequests.NameAvailability(false, "Invalid", ArmNames.InvalidIotHubNameMessage(name)));
        return IotHubStore.Exists(ctx, name)
            ? Results.Json(ArmRequests.NameAvailability(false, "AlreadyExists", $"The IoT hub name '{name}' is already taken: IoT hub names are global because they form the host name {name.ToLowerInvariant()}.azure-devices.net."))
            : Results.Json(ArmRequests.NameAvailability(true, null, "Name is available."));
    }

    /// <summary>
    /// Create and update answer 201 with Azure-AsyncOperation (…/locations/{region}/operationResults/{id}?…&amp;operationSource=other&amp;asyncinfo)
    /// and provisioningState "Accepted", as Azure's recorded create does (docs/azure-wire.md §3); the store changes at once.
    /// </summary>
    private static async Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string resourceName, HttpContext http, EmulatorContext ctx)
    {
        ResourceGroupStore.Require(ctx, subscriptionId, resourceGroupName);
        IotHubStore.RequireValidName(resourceName);
        var body = await ArmRequests.ReadBodyAsync(http.Request, required: true).ConfigureAwait(false);
        var definition = IotHubDefinition.FromBody(body);
        var (hub, created) = await IotHubStore.PutAsync(ctx, subscriptionId, resourceGroupName, resourceName, definition, IfMatch.Of(http.Request)).ConfigureAwait(false);
        var operation = ctx.LongOperations.Start(IotHubJson.OperationKey(hub.Name), created ? ArmOperationKind.Create : ArmOperationKind.Update);
        http.Response.Headers["Azure-AsyncOperation"] = OperationUrl(http, ctx, subscriptionId, hub.Location, operation, asyncInfo: true);
        return Results.Json(IotHubJson.Describe(ctx, hub, operation), statusCode: 201);
    }

    private static async Task<IResult> PatchAsync(string subscriptionId, string resourceGroupName, string resourceName, HttpRequest request, EmulatorContext ctx)
    {
        IotHubStore.Require(ctx, subscriptionId, resourceGroupName, resourceName);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var tags = ArmRequests.OptionalTags(body) ?? throw ArmErrors.IotHubTagsRequired();
        var hub = await IotHubStore.UpdateTagsAsync(ctx, subscriptionId, resourceGroupName, resourceName, tags).ConfigureAwait(false);
        return Results.Json(IotHubJson.Describe(ctx, hub));
    }

    /// <summary>
    /// 202 with Azure-AsyncOperation and Location and the body <c>null</c>, as recorded; the hub (and its devices) go at
    /// once, the operation reports Running until its time is up. DPS links to it stay, as on Azure. A missing hub: 204.
    /// </summary>
    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string resourceName, HttpContext http, EmulatorContext ctx)
    {
        var location = ctx.Store.IotHubs.Get(ArmKeys.IotHub(resourceName))?.Location ?? ctx.Options.Location;
        if (!await IotHubStore.DeleteAsync(ctx, subscriptionId, resourceGroupName, resourceName).ConfigureAwait(false)) return Results.NoContent();
        var operation = ctx.LongOperations.Start(IotHubJson.OperationKey(resourceName), ArmOperationKind.Delete);
        http.Response.Headers["Azure-AsyncOperation"] = OperationUrl(http, ctx, subscriptionId, location, operation, asyncInfo: true);
        http.Response.Headers.Location = OperationUrl(http, ctx, subscriptionId, location, operation, asyncInfo: false);
        return Results.Content("null", "application/json; charset=utf-8", statusCode: 202);
    }

    /// <summary>The recorded hub status URLs carry operationSource=other before asyncinfo.</summary>
    private static string OperationUrl(HttpContext http, EmulatorContext ctx, string subscriptionId, string location, ArmOperation operation, bool asyncInfo)
    {
        var url = ArmRequests.OperationUrl(http, ctx, subscriptionId, location, OperationResultsSegment, operation, asyncInfo: false) + "&operationSource=other";
        return asyncInfo ? url + "&asyncinfo" : url;
    }
}
