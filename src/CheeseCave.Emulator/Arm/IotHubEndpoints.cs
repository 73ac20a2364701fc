using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// Microsoft.Devices/IotHubs (docs/azure-wire.md §3): create/update as an LRO, get, list, tags, delete, listkeys and
/// name availability. Only what DPS linking and the portal need: no routing, endpoints or certificates.
/// </summary>
internal static class IotHubEndpoints
{
    public const string ResourceType = "Microsoft.Devices/IotHubs";

    public static readonly IReadOnlyList<string> Skus = ["F1", "S1", "S2", "S3", "B1", "B2", "B3"];

    public static WebApplication MapIotHubEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var subscription = app.MapGroup("/subscriptions/{subscriptionId}/providers/Microsoft.Devices").AddEndpointFilter(ArmRequests.Filter);
        subscription.MapGet("/IotHubs", (string subscriptionId, EmulatorContext ctx) =>
        {
            if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId)) return ArmEndpoints.SubscriptionNotFound(subscriptionId);
            return Results.Json(ArmJson.List(ctx.Store.IotHubs.All
                .Where(h => h.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase))
                .OrderBy(h => h.Name, StringComparer.OrdinalIgnoreCase).Select(h => (JsonNode)Describe(h))));
        });
        subscription.MapPost("/checkNameAvailability", CheckNameAsync);

        var hubs = app.MapGroup("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Devices/IotHubs")
            .AddEndpointFilter(ArmRequests.Filter);
        hubs.MapGet(string.Empty, (string subscriptionId, string resourceGroupName, EmulatorContext ctx) =>
        {
            if (ArmEndpoints.RequireResourceGroup(ctx, subscriptionId, resourceGroupName) is { } error) return error;
            return Results.Json(ArmJson.List(InGroup(ctx, subscriptionId, resourceGroupName).Select(h => (JsonNode)Describe(h))));
        });
        hubs.MapPut("/{resourceName}", PutAsync);
        hubs.MapGet("/{resourceName}", (string subscriptionId, string resourceGroupName, string resourceName, EmulatorContext ctx) =>
            Results.Json(Describe(Require(ctx, subscriptionId, resourceGroupName, resourceName))));
        hubs.MapMethods("/{resourceName}", ["HEAD"], (string subscriptionId, string resourceGroupName, string resourceName, EmulatorContext ctx) =>
        {
            Require(ctx, subscriptionId, resourceGroupName, resourceName);
            return Results.NoContent(); // ARM's existence check: 204 or 404
        });
        hubs.MapPatch("/{resourceName}", PatchAsync);
        hubs.MapDelete("/{resourceName}", DeleteAsync);
        hubs.MapGet("/{resourceName}/operationresults/{operationId}", (string subscriptionId, string operationId, EmulatorContext ctx) =>
            ArmEndpoints.KnownSubscription(ctx, subscriptionId) ? ArmRequests.OperationResult(operationId) : ArmEndpoints.SubscriptionNotFound(subscriptionId));
        hubs.MapPost("/{resourceName}/listkeys", (string subscriptionId, string resourceGroupName, string resourceName, EmulatorContext ctx) =>
            Results.Json(ArmJson.List(Require(ctx, subscriptionId, resourceGroupName, resourceName).AuthorizationPolicies.Select(p => (JsonNode)ArmRequests.PolicyWithKeys(p)))));
        hubs.MapPost("/{resourceName}/IotHubKeys/{keyName}/listkeys", (string subscriptionId, string resourceGroupName, string resourceName, string keyName, EmulatorContext ctx) =>
        {
            var hub = Require(ctx, subscriptionId, resourceGroupName, resourceName);
            var policy = hub.AuthorizationPolicies.FirstOrDefault(p => p.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase));
            return policy is null
                ? ErrorResponses.Arm(404, "KeyNameNotFound", $"The IoT hub '{hub.Name}' has no shared access policy '{keyName}'. Its policies: {string.Join(", ", hub.AuthorizationPolicies.Select(p => p.KeyName))}.")
                : Results.Json(ArmRequests.PolicyWithKeys(policy));
        });
        return app;
    }

    /// <summary>The hub at this path, or a 404/ARM error thrown.</summary>
    public static IotHubEntity Require(EmulatorContext ctx, string subscriptionId, string resourceGroupName, string name)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        if (ArmEndpoints.RequireResourceGroup(ctx, subscriptionId, resourceGroupName) is not null)
        {
            throw ArmEndpoints.KnownSubscription(ctx, subscriptionId)
                ? new ArmErrorException(404, "ResourceGroupNotFound", $"Resource group '{resourceGroupName}' could not be found.")
                : new ArmErrorException(404, "SubscriptionNotFound", $"The subscription '{subscriptionId}' could not be found. The emulator has one subscription: see subscriptionId in endpoints.json.");
        }

        var hub = ctx.Store.IotHubs.Get(ArmKeys.IotHub(name));
        if (hub is null || !InGroup(hub, subscriptionId, resourceGroupName))
        {
            throw new ArmErrorException(404, "ResourceNotFound", $"The Resource '{ResourceType}/{name}' under resource group '{resourceGroupName}' was not found.");
        }

        return hub;
    }

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

    private static bool InGroup(IotHubEntity hub, string subscriptionId, string resourceGroupName) =>
        hub.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase) && hub.ResourceGroup.Equals(resourceGroupName, StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<IotHubEntity> InGroup(EmulatorContext ctx, string subscriptionId, string resourceGroupName) =>
        ctx.Store.IotHubs.All.Where(h => InGroup(h, subscriptionId, resourceGroupName)).OrderBy(h => h.Name, StringComparer.OrdinalIgnoreCase);

    private static string InvalidNameMessage(string name) =>
        $"The IoT hub name '{name}' is invalid: use 3 to 50 letters, digits and hyphens, not only digits, starting and ending with a letter or digit.";

    private static async Task<IResult> CheckNameAsync(string subscriptionId, HttpRequest request, EmulatorContext ctx)
    {
        if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId)) return ArmEndpoints.SubscriptionNotFound(subscriptionId);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var name = ArmRequests.OptionalString(body, "name", "name");
        if (string.IsNullOrEmpty(name)) throw ArmRequests.Invalid("'name' is required: the IoT hub name to check.");
        if (!ArmNames.IsValidDevicesResourceName(name)) return Results.Json(ArmRequests.NameAvailability(false, "Invalid", InvalidNameMessage(name)));
        return ctx.Store.IotHubs.Get(ArmKeys.IotHub(name)) is not null
            ? Results.Json(ArmRequests.NameAvailability(false, "AlreadyExists", $"The IoT hub name '{name}' is already taken: IoT hub names are global because they form the host name {name.ToLowerInvariant()}.azure-devices.net."))
            : Results.Json(ArmRequests.NameAvailability(true, null, "Name is available."));
    }

    private static async Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string resourceName, HttpContext http, EmulatorContext ctx)
    {
        if (ArmEndpoints.RequireResourceGroup(ctx, subscriptionId, resourceGroupName) is { } error) return error;
        if (!ArmNames.IsValidDevicesResourceName(resourceName)) return ErrorResponses.Arm(400, "InvalidIotHubName", InvalidNameMessage(resourceName));
        var body = await ArmRequests.ReadBodyAsync(http.Request, required: true).ConfigureAwait(false);
        var location = ArmRequests.OptionalString(body, "location", "location");
        if (string.IsNullOrWhiteSpace(location))
        {
            return ErrorResponses.Arm(400, "LocationRequired", "The location property is required for this definition.");
        }

        var sku = ArmRequests.OptionalObject(body, "sku", "sku")
            ?? throw new ArmErrorException(400, "InvalidSku", $"'sku' is required, for example {{\"name\":\"S1\",\"capacity\":1}}; sku.name is one of {string.Join(", ", Skus)}.");
        var skuName = ArmRequests.OptionalString(sku, "name", "sku.name");
        var canonicalSku = Skus.FirstOrDefault(s => s.Equals(skuName, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArmErrorException(400, "InvalidSku", $"sku.name '{skuName}' is not an IoT hub SKU; use one of {string.Join(", ", Skus)}.");
        var capacity = ArmRequests.OptionalInteger(sku, "capacity", "sku.capacity") ?? 1;
        if (capacity < 1 || (canonicalSku == "F1" && capacity != 1))
        {
            throw new ArmErrorException(400, "InvalidSkuCapacity", canonicalSku == "F1" ? "The F1 (free) SKU has exactly one unit: sku.capacity must be 1." : "sku.capacity must be at least 1.");
        }

        var tags = ArmRequests.OptionalTags(body);
        var normalizedLocation = ArmNames.NormalizeLocation(location);
        var key = ArmKeys.IotHub(resourceName);
        var (hub, created) = await ctx.Store.WriteAsync(tx =>
        {
            var existing = ctx.Store.IotHubs.Get(key);
            if (existing is not null && !InGroup(existing, subscriptionId, resourceGroupName))
            {
                throw new ArmErrorException(409, "IotHubNameNotAvailable",
                    $"The IoT hub name '{resourceName}' is already taken (by a hub in resource group '{existing.ResourceGroup}'). IoT hub names are global because they form the host name {existing.HostName}; choose another name.");
            }

            if (existing is not null)
            {
                if (!ArmJson.IfMatchAccepts(http.Request, existing.Etag, required: false))
                {
                    throw new ArmErrorException(412, "PreconditionFailed", $"The etag in If-Match does not match the current etag of IoT hub '{existing.Name}'. Read it again and retry with the new etag.");
                }

                if (!existing.Location.Equals(normalizedLocation, StringComparison.OrdinalIgnoreCase))
                {
                    throw new ArmErrorException(409, "InvalidResourceLocation",
                        $"The resource '{existing.Name}' already exists in location '{existing.Location}' in resource group '{existing.ResourceGroup}'. A resource with the same name cannot be created in location '{normalizedLocation}'.");
                }
            }

            var now = ctx.Time.GetUtcNow();
            var entity = new IotHubEntity(
                subscriptionId,
                existing?.ResourceGroup ?? resourceGroupName,
                existing?.Name ?? resourceName,
                existing?.Location ?? normalizedLocation,
                tags ?? existing?.Tags ?? [],
                canonicalSku,
                capacity,
                existing?.AuthorizationPolicies ?? DefaultPolicies(),
                EmulatorContext.NewEtag(),
                existing?.CreatedAt ?? now);
            tx.Put(ctx.Store.IotHubs, key, entity);
            return (entity, existing is null);
        }).ConfigureAwait(false);

        var description = Describe(hub);
        return created ? ArmRequests.CreatedAsync(http, ctx, PathOf(hub), description) : Results.Json(description);
    }

    private static async Task<IResult> PatchAsync(string subscriptionId, string resourceGroupName, string resourceName, HttpRequest request, EmulatorContext ctx)
    {
        Require(ctx, subscriptionId, resourceGroupName, resourceName);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var tags = ArmRequests.OptionalTags(body) ?? throw ArmRequests.Invalid("'tags' is required: PATCH on an IoT hub updates its tags only.");
        var hub = await ctx.Store.WriteAsync(tx =>
        {
            var current = Require(ctx, subscriptionId, resourceGroupName, resourceName);
            var updated = current with { Tags = tags, Etag = EmulatorContext.NewEtag() };
            tx.Put(ctx.Store.IotHubs, ArmKeys.IotHub(resourceName), updated);
            return updated;
        }).ConfigureAwait(false);
        return Results.Json(Describe(hub));
    }

    /// <summary>Answers 200 at once (a missing hub: 204, as ARM). The hub's devices go with it; DPS links to it stay, as on Azure.</summary>
    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string resourceName, EmulatorContext ctx)
    {
        if (ArmEndpoints.RequireResourceGroup(ctx, subscriptionId, resourceGroupName) is { } error) return error;
        var deleted = await ctx.Store.WriteAsync(tx =>
        {
            var key = ArmKeys.IotHub(resourceName);
            var hub = ctx.Store.IotHubs.Get(key);
            if (hub is null || !InGroup(hub, subscriptionId, resourceGroupName)) return false;
            foreach (var (deviceKey, device) in ctx.Store.HubDevices.Rows)
            {
                if (device.Hub.Equals(hub.Name, StringComparison.OrdinalIgnoreCase)) tx.Delete(ctx.Store.HubDevices, deviceKey);
            }

            tx.Delete(ctx.Store.IotHubs, key);
            return true;
        }).ConfigureAwait(false);
        return deleted ? Results.Ok() : Results.NoContent();
    }

    /// <summary>The five policies a new hub has on Azure (iothub_listkeys.json).</summary>
    private static List<AccessPolicy> DefaultPolicies() =>
    [
        new("iothubowner", EmulatorContext.NewKey(), EmulatorContext.NewKey(), "RegistryWrite, ServiceConnect, DeviceConnect"),
        new("service", EmulatorContext.NewKey(), EmulatorContext.NewKey(), "ServiceConnect"),
        new("device", EmulatorContext.NewKey(), EmulatorContext.NewKey(), "DeviceConnect"),
        new("registryRead", EmulatorContext.NewKey(), EmulatorContext.NewKey(), "RegistryRead"),
        new("registryReadWrite", EmulatorContext.NewKey(), EmulatorContext.NewKey(), "RegistryWrite"),
    ];
}
