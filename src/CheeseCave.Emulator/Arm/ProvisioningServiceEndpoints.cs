using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// Microsoft.Devices/provisioningServices (docs/azure-wire.md §1): create/update as an LRO, get, tags, delete, lists,
/// name availability, listkeys and SKUs. The routes parse and render; <see cref="ProvisioningServiceStore"/> holds the rules.
/// </summary>
internal static class ProvisioningServiceEndpoints
{
    /// <summary>Where DPS operations report, under /subscriptions/{sub}/providers/Microsoft.Devices/locations/{region}/.</summary>
    public const string OperationResultsSegment = "provisioningServiceOperationResults";

    public static WebApplication MapProvisioningServiceEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var subscription = app.MapGroup("/subscriptions/{subscriptionId}/providers/Microsoft.Devices").AddEndpointFilter(ArmRequests.DpsFilter);
        subscription.MapGet("/provisioningServices", (string subscriptionId, EmulatorContext ctx) =>
        {
            if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId)) return ArmEndpoints.SubscriptionNotFound(subscriptionId);
            return Results.Json(ArmJson.List(ProvisioningServiceStore.InSubscription(ctx, subscriptionId).Select(d => (JsonNode)ProvisioningServiceJson.Describe(ctx, d))));
        });
        subscription.MapPost("/checkProvisioningServiceNameAvailability", CheckNameAsync);
        subscription.MapGet("/locations/{location}/" + OperationResultsSegment + "/{operationId}", (string subscriptionId, string operationId, HttpRequest request, EmulatorContext ctx) =>
            ArmEndpoints.KnownSubscription(ctx, subscriptionId) ? ArmRequests.OperationStatus(request, ctx, operationId) : ArmEndpoints.SubscriptionNotFound(subscriptionId));

        var services = app.MapGroup("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Devices/provisioningServices")
            .AddEndpointFilter(ArmRequests.DpsFilter);
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
            ArmEndpoints.KnownSubscription(ctx, subscriptionId) ? ArmRequests.OperationResult(ctx, operationId) : ArmEndpoints.SubscriptionNotFound(subscriptionId));
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

    /// <summary>Azure's values (docs/azure-wire.md §1.3): a free name says reason "Invalid" and message null.</summary>
    private static async Task<IResult> CheckNameAsync(string subscriptionId, HttpRequest request, EmulatorContext ctx)
    {
        if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId)) return ArmEndpoints.SubscriptionNotFound(subscriptionId);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var name = ArmRequests.OptionalString(body, "name", "name");
        if (string.IsNullOrEmpty(name)) throw ArmErrors.NameToCheckRequired("provisioning service");
        string? message = null;
        if (!ArmNames.IsValidDevicesResourceName(name))
        {
            message = ArmNames.InvalidProvisioningServiceNameMessage(name);
        }
        else if (ProvisioningServiceStore.Exists(ctx, name))
        {
            message = $"The provisioning service name '{name}' is already taken: names are global because they form the host name {name.ToLowerInvariant()}.azure-devices-provisioning.net.";
            return Results.Json(new JsonObject { ["nameAvailable"] = false, ["reason"] = "AlreadyExists", ["message"] = message });
        }

        return Results.Json(new JsonObject { ["nameAvailable"] = message is null, ["reason"] = "Invalid", ["message"] = message });
    }

    /// <summary>
    /// Create and update both answer 201 with Azure-AsyncOperation and provisioningState "Accepted" (a create also
    /// with idScope null), as Azure's recorded traffic does (docs/azure-wire.md §1.5). The store changes at once; the
    /// operation decides when the status URL says Succeeded. Policies the PUT sent are echoed with their keys.
    /// </summary>
    private static async Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, HttpContext http, EmulatorContext ctx)
    {
        ResourceGroupStore.Require(ctx, subscriptionId, resourceGroupName);
        ProvisioningServiceStore.RequireValidName(provisioningServiceName);
        var body = await ArmRequests.ReadBodyAsync(http.Request, required: true).ConfigureAwait(false);
        var definition = ProvisioningServiceDefinition.FromBody(body);
        var (dps, created) = await ProvisioningServiceStore.PutAsync(ctx, subscriptionId, resourceGroupName, provisioningServiceName, definition, IfMatch.Of(http.Request)).ConfigureAwait(false);
        var operation = ctx.LongOperations.Start(ArmKeys.ProvisioningService(dps.Name), created ? ArmOperationKind.Create : ArmOperationKind.Update);
        http.Response.Headers["Azure-AsyncOperation"] = ArmRequests.OperationUrl(http, ctx, subscriptionId, dps.Location, OperationResultsSegment, operation, asyncInfo: true);
        var echoPolicies = definition.AuthorizationPolicies is null ? null : dps.AuthorizationPolicies;
        return Results.Json(ProvisioningServiceJson.Describe(ctx, dps, operation, echoPolicies), statusCode: 201);
    }

    private static async Task<IResult> PatchAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, HttpRequest request, EmulatorContext ctx)
    {
        ProvisioningServiceStore.Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var tags = ArmRequests.OptionalTags(body) ?? throw ArmErrors.ProvisioningServiceTagsRequired();
        var dps = await ProvisioningServiceStore.UpdateTagsAsync(ctx, subscriptionId, resourceGroupName, provisioningServiceName, tags).ConfigureAwait(false);
        return Results.Json(ProvisioningServiceJson.Describe(ctx, dps));
    }

    /// <summary>
    /// 202 with Azure-AsyncOperation and Location and an empty body, as Azure's recorded traffic (docs/azure-wire.md
    /// §1.5); the DPS is gone at once, the operation reports Running until its time is up. A missing DPS: 204, as ARM.
    /// </summary>
    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, HttpContext http, EmulatorContext ctx)
    {
        var location = ctx.Store.ProvisioningServices.Get(ArmKeys.ProvisioningService(provisioningServiceName))?.Location ?? ctx.Options.Location;
        if (!await ProvisioningServiceStore.DeleteAsync(ctx, subscriptionId, resourceGroupName, provisioningServiceName).ConfigureAwait(false)) return Results.NoContent();
        var operation = ctx.LongOperations.Start(ArmKeys.ProvisioningService(provisioningServiceName), ArmOperationKind.Delete);
        http.Response.Headers["Azure-AsyncOperation"] = ArmRequests.OperationUrl(http, ctx, subscriptionId, location, OperationResultsSegment, operation, asyncInfo: true);
        http.Response.Headers.Location = ArmRequests.OperationUrl(http, ctx, subscriptionId, location, OperationResultsSegment, operation, asyncInfo: false);
        return Results.StatusCode(202);
    }
}
