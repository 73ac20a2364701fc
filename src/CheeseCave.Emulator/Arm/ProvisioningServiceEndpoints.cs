using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// Microsoft.Devices/provisioningServices (docs/azure-wire.md §1): create/update as an LRO, get, tags, delete, lists,
/// name availability, listkeys and SKUs. Linked hubs must be hubs this emulator runs, linked with a key that works.
/// </summary>
internal static class ProvisioningServiceEndpoints
{
    public const string ResourceType = "Microsoft.Devices/ProvisioningServices";

    public const string OwnerPolicy = "provisioningserviceowner";

    public const int MaxLinkedHubs = 50;

    public static readonly IReadOnlyList<string> Rights =
        ["ServiceConfig", "EnrollmentRead", "EnrollmentWrite", "DeviceConnect", "RegistrationStatusRead", "RegistrationStatusWrite"];

    /// <summary>What DPS needs on a linked hub's policy to create devices there.</summary>
    public static readonly IReadOnlyList<string> HubRightsNeeded = ["RegistryWrite", "ServiceConnect"];

    public static readonly IReadOnlyList<string> AllocationPolicies = ["Hashed", "GeoLatency", "Static"];

    /// <summary>How GET shows a linked hub's key: like Azure, keys are never echoed.</summary>
    public const string MaskedKey = "****";

    public static WebApplication MapProvisioningServiceEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var subscription = app.MapGroup("/subscriptions/{subscriptionId}/providers/Microsoft.Devices").AddEndpointFilter(ArmRequests.Filter);
        subscription.MapGet("/provisioningServices", (string subscriptionId, EmulatorContext ctx) =>
        {
            if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId)) return ArmEndpoints.SubscriptionNotFound(subscriptionId);
            return Results.Json(ArmJson.List(ctx.Store.ProvisioningServices.All
                .Where(d => d.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase))
                .OrderBy(d => d.Name, StringComparer.OrdinalIgnoreCase).Select(d => (JsonNode)Describe(ctx, d))));
        });
        subscription.MapPost("/checkProvisioningServiceNameAvailability", CheckNameAsync);

        var services = app.MapGroup("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Devices/provisioningServices")
            .AddEndpointFilter(ArmRequests.Filter);
        services.MapGet(string.Empty, (string subscriptionId, string resourceGroupName, EmulatorContext ctx) =>
        {
            if (ArmEndpoints.RequireResourceGroup(ctx, subscriptionId, resourceGroupName) is { } error) return error;
            return Results.Json(ArmJson.List(ctx.Store.ProvisioningServices.All
                .Where(d => InGroup(d, subscriptionId, resourceGroupName))
                .OrderBy(d => d.Name, StringComparer.OrdinalIgnoreCase).Select(d => (JsonNode)Describe(ctx, d))));
        });
        services.MapPut("/{provisioningServiceName}", PutAsync);
        services.MapGet("/{provisioningServiceName}", (string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
            Results.Json(Describe(ctx, Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName))));
        services.MapMethods("/{provisioningServiceName}", ["HEAD"], (string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
        {
            Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            return Results.NoContent(); // ARM's existence check (Resources_CheckExistenceById): 204 or 404
        });
        services.MapPatch("/{provisioningServiceName}", PatchAsync);
        services.MapDelete("/{provisioningServiceName}", DeleteAsync);
        services.MapGet("/{provisioningServiceName}/operationresults/{operationId}", (string subscriptionId, string operationId, EmulatorContext ctx) =>
            ArmEndpoints.KnownSubscription(ctx, subscriptionId) ? ArmRequests.OperationResult(operationId) : ArmEndpoints.SubscriptionNotFound(subscriptionId));
        services.MapPost("/{provisioningServiceName}/listkeys", (string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
            Results.Json(ArmJson.List(Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName)
                .AuthorizationPolicies.Select(p => (JsonNode)ArmRequests.PolicyWithKeys(p)))));
        services.MapPost("/{provisioningServiceName}/keys/{keyName}/listkeys", (string subscriptionId, string resourceGroupName, string provisioningServiceName, string keyName, EmulatorContext ctx) =>
        {
            var dps = Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            var policy = dps.AuthorizationPolicies.FirstOrDefault(p => p.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase));
            return policy is null
                ? ErrorResponses.Arm(404, "KeyNameNotFound", $"The provisioning service '{dps.Name}' has no shared access policy '{keyName}'. Its policies: {string.Join(", ", dps.AuthorizationPolicies.Select(p => p.KeyName))}.")
                : Results.Json(ArmRequests.PolicyWithKeys(policy));
        });
        services.MapGet("/{provisioningServiceName}/skus", (string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx) =>
        {
            Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            return Results.Json(ArmJson.List([new JsonObject { ["name"] = "S1" }]));
        });
        return app;
    }

    /// <summary>The DPS at this path, or an ARM 404 thrown (subscription, resource group or DPS).</summary>
    public static ProvisioningServiceEntity Require(EmulatorContext ctx, string subscriptionId, string resourceGroupName, string name)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        RequireGroup(ctx, subscriptionId, resourceGroupName);
        var dps = ctx.Store.ProvisioningServices.Get(ArmKeys.ProvisioningService(name));
        if (dps is null || !InGroup(dps, subscriptionId, resourceGroupName))
        {
            throw new ArmErrorException(404, "ResourceNotFound", $"The Resource '{ResourceType}/{name}' under resource group '{resourceGroupName}' was not found.");
        }

        return dps;
    }

    public static string PathOf(ProvisioningServiceEntity dps)
    {
        ArgumentNullException.ThrowIfNull(dps);
        return $"{ArmRequests.GroupPath(dps.SubscriptionId, ArmRequests.Escape(dps.ResourceGroup))}/providers/{ResourceType}/{dps.Name}";
    }

    /// <summary>The GET/PUT body (docs/azure-wire.md §1.1). Keys stay out: policies carry names and rights, hub links a masked key.</summary>
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

    private static void RequireGroup(EmulatorContext ctx, string subscriptionId, string resourceGroupName)
    {
        if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId))
        {
            throw new ArmErrorException(404, "SubscriptionNotFound", $"The subscription '{subscriptionId}' could not be found. The emulator has one subscription: see subscriptionId in endpoints.json.");
        }

        if (ctx.Store.ResourceGroups.Get(ArmKeys.ResourceGroup(subscriptionId, resourceGroupName)) is null)
        {
            throw new ArmErrorException(404, "ResourceGroupNotFound", $"Resource group '{resourceGroupName}' could not be found.");
        }
    }

    private static bool InGroup(ProvisioningServiceEntity dps, string subscriptionId, string resourceGroupName) =>
        dps.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase) && dps.ResourceGroup.Equals(resourceGroupName, StringComparison.OrdinalIgnoreCase);

    private static string Masked(string connectionString)
    {
        var parts = ConnectionStrings.Parse(connectionString);
        return $"HostName={parts.GetValueOrDefault("HostName")};SharedAccessKeyName={parts.GetValueOrDefault("SharedAccessKeyName")};SharedAccessKey={MaskedKey}";
    }

    private static string InvalidNameMessage(string name) =>
        $"The provisioning service name '{name}' is invalid: use 3 to 50 letters, digits and hyphens, not only digits, starting and ending with a letter or digit.";

    private static async Task<IResult> CheckNameAsync(string subscriptionId, HttpRequest request, EmulatorContext ctx)
    {
        if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId)) return ArmEndpoints.SubscriptionNotFound(subscriptionId);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var name = ArmRequests.OptionalString(body, "name", "name");
        if (string.IsNullOrEmpty(name)) throw ArmRequests.Invalid("'name' is required: the provisioning service name to check.");
        if (!ArmNames.IsValidDevicesResourceName(name)) return Results.Json(ArmRequests.NameAvailability(false, "Invalid", InvalidNameMessage(name)));
        return ctx.Store.ProvisioningServices.Get(ArmKeys.ProvisioningService(name)) is not null
            ? Results.Json(ArmRequests.NameAvailability(false, "AlreadyExists", $"The provisioning service name '{name}' is already taken: names are global because they form the host name {name.ToLowerInvariant()}.azure-devices-provisioning.net."))
            : Results.Json(ArmRequests.NameAvailability(true, null, "name is valid"));
    }

    private static async Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, HttpContext http, EmulatorContext ctx)
    {
        if (ArmEndpoints.RequireResourceGroup(ctx, subscriptionId, resourceGroupName) is { } error) return error;
        if (!ArmNames.IsValidDevicesResourceName(provisioningServiceName))
        {
            return ErrorResponses.Arm(400, "InvalidResourceName", InvalidNameMessage(provisioningServiceName));
        }

        var body = await ArmRequests.ReadBodyAsync(http.Request, required: true).ConfigureAwait(false);
        var location = ArmRequests.OptionalString(body, "location", "location");
        if (string.IsNullOrWhiteSpace(location))
        {
            return ErrorResponses.Arm(400, "LocationRequired", "The location property is required for this definition.");
        }

        var normalizedLocation = ArmNames.NormalizeLocation(location);
        var tags = ArmRequests.OptionalTags(body);
        var sku = ArmRequests.OptionalObject(body, "sku", "sku");
        var skuName = ArmRequests.OptionalString(sku, "name", "sku.name");
        if (skuName is not null && !skuName.Equals("S1", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArmErrorException(400, "InvalidSku", $"sku.name '{skuName}' is not a provisioning service SKU; the only SKU is S1.");
        }

        var capacity = ArmRequests.OptionalInteger(sku, "capacity", "sku.capacity");
        if (capacity is < 1)
        {
            throw new ArmErrorException(400, "InvalidSkuCapacity", "sku.capacity must be at least 1.");
        }

        var properties = ArmRequests.OptionalObject(body, "properties", "properties");
        var allocationText = ArmRequests.OptionalString(properties, "allocationPolicy", "properties.allocationPolicy");
        string? allocation = null;
        if (allocationText is not null)
        {
            allocation = AllocationPolicies.FirstOrDefault(p => p.Equals(allocationText, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArmErrorException(400, "InvalidAllocationPolicy", $"properties.allocationPolicy '{allocationText}' is not one of {string.Join(", ", AllocationPolicies)}.");
        }

        var hubItems = ArmRequests.OptionalArray(properties, "iotHubs", "properties.iotHubs");
        var policyItems = ArmRequests.OptionalArray(properties, "authorizationPolicies", "properties.authorizationPolicies");

        var key = ArmKeys.ProvisioningService(provisioningServiceName);
        var (dps, created) = await ctx.Store.WriteAsync(tx =>
        {
            // Everything that can fail is checked before the one Put, so a refused request changes nothing.
            var existing = ctx.Store.ProvisioningServices.Get(key);
            if (existing is not null && !InGroup(existing, subscriptionId, resourceGroupName))
            {
                throw new ArmErrorException(409, "NameUnavailable",
                    $"The provisioning service name '{provisioningServiceName}' is already taken (by a provisioning service in resource group '{existing.ResourceGroup}'). Names are global because they form the host name {existing.Name.ToLowerInvariant()}.azure-devices-provisioning.net; choose another name.");
            }

            if (existing is not null)
            {
                if (!ArmJson.IfMatchAccepts(http.Request, existing.Etag, required: false))
                {
                    throw new ArmErrorException(412, "PreconditionFailed", $"The etag in If-Match does not match the current etag of provisioning service '{existing.Name}'. Read it again and retry with the new etag.");
                }

                if (!existing.Location.Equals(normalizedLocation, StringComparison.OrdinalIgnoreCase))
                {
                    throw new ArmErrorException(409, "InvalidResourceLocation",
                        $"The resource '{existing.Name}' already exists in location '{existing.Location}' in resource group '{existing.ResourceGroup}'. A resource with the same name cannot be created in location '{normalizedLocation}'.");
                }
            }

            var hubs = hubItems is null ? existing?.IotHubs ?? [] : ResolveHubs(ctx, hubItems, existing, normalizedLocation);
            var policies = ResolvePolicies(policyItems, existing);
            var entity = new ProvisioningServiceEntity(
                subscriptionId,
                existing?.ResourceGroup ?? resourceGroupName,
                existing?.Name ?? provisioningServiceName,
                existing?.Location ?? normalizedLocation,
                tags ?? existing?.Tags ?? [],
                "S1",
                capacity ?? existing?.SkuCapacity ?? 1,
                existing?.IdScope ?? NewIdScope(ctx),
                allocation ?? existing?.AllocationPolicy ?? "Hashed",
                hubs,
                policies,
                EmulatorContext.NewEtag(),
                existing?.CreatedAt ?? ctx.Time.GetUtcNow());
            tx.Put(ctx.Store.ProvisioningServices, key, entity);
            return (entity, existing is null);
        }).ConfigureAwait(false);

        var description = Describe(ctx, dps);
        return created ? ArmRequests.CreatedAsync(http, ctx, PathOf(dps), description) : Results.Json(description);
    }

    private static async Task<IResult> PatchAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, HttpRequest request, EmulatorContext ctx)
    {
        Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
        var body = await ArmRequests.ReadBodyAsync(request, required: true).ConfigureAwait(false);
        var tags = ArmRequests.OptionalTags(body) ?? throw ArmRequests.Invalid("'tags' is required: PATCH on a provisioning service updates its tags only (use PUT for the rest).");
        var dps = await ctx.Store.WriteAsync(tx =>
        {
            var current = Require(ctx, subscriptionId, resourceGroupName, provisioningServiceName);
            var updated = current with { Tags = tags, Etag = EmulatorContext.NewEtag() };
            tx.Put(ctx.Store.ProvisioningServices, ArmKeys.ProvisioningService(current.Name), updated);
            return updated;
        }).ConfigureAwait(false);
        return Results.Json(Describe(ctx, dps));
    }

    /// <summary>
    /// Answers 200 at once (docs/azure-wire.md §1.5's simplest interoperable answer; a missing DPS: 204, as ARM). Everything that
    /// belongs to the DPS goes with it: certificates, enrollments, registrations and device operations.
    /// </summary>
    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string provisioningServiceName, EmulatorContext ctx)
    {
        RequireGroup(ctx, subscriptionId, resourceGroupName);
        var deleted = await ctx.Store.WriteAsync(tx =>
        {
            var key = ArmKeys.ProvisioningService(provisioningServiceName);
            var dps = ctx.Store.ProvisioningServices.Get(key);
            if (dps is null || !InGroup(dps, subscriptionId, resourceGroupName)) return false;
            var prefix = key + "/";
            bool Owned(string rowKey, string owner) =>
                owner.Equals(dps.Name, StringComparison.OrdinalIgnoreCase) || rowKey.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);

            foreach (var (rowKey, row) in ctx.Store.DpsCertificates.Rows)
            {
                if (Owned(rowKey, row.Dps)) tx.Delete(ctx.Store.DpsCertificates, rowKey);
            }

            foreach (var (rowKey, row) in ctx.Store.Enrollments.Rows)
            {
                if (Owned(rowKey, row.Dps)) tx.Delete(ctx.Store.Enrollments, rowKey);
            }

            foreach (var (rowKey, row) in ctx.Store.Registrations.Rows)
            {
                if (Owned(rowKey, row.Dps)) tx.Delete(ctx.Store.Registrations, rowKey);
            }

            foreach (var (rowKey, row) in ctx.Store.Operations.Rows)
            {
                if (row.Dps.Equals(dps.Name, StringComparison.OrdinalIgnoreCase)) tx.Delete(ctx.Store.Operations, rowKey);
            }

            tx.Delete(ctx.Store.ProvisioningServices, key);
            return true;
        }).ConfigureAwait(false);
        return deleted ? Results.Ok() : Results.NoContent();
    }

    /// <summary>A fresh ID Scope, unique among this emulator's services.</summary>
    private static string NewIdScope(EmulatorContext ctx)
    {
        while (true)
        {
            var scope = EmulatorContext.NewIdScope();
            if (!ctx.Store.ProvisioningServices.All.Any(d => d.IdScope.Equals(scope, StringComparison.OrdinalIgnoreCase))) return scope;
        }
    }

    /// <summary>
    /// Validates the hub links of a PUT. A new or changed link must name a hub this emulator runs, with a key of a
    /// policy holding RegistryWrite and ServiceConnect (what DPS needs to create devices). A link sent back as GET
    /// showed it (key masked) or unchanged keeps the stored connection string.
    /// </summary>
    private static List<LinkedHub> ResolveHubs(EmulatorContext ctx, JsonArray items, ProvisioningServiceEntity? existing, string dpsLocation)
    {
        if (items.Count > MaxLinkedHubs)
        {
            throw new ArmErrorException(400, "TooManyLinkedIotHubs", $"A provisioning service can link at most {MaxLinkedHubs} IoT hubs; the request has {items.Count}.");
        }

        var result = new List<LinkedHub>();
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"properties.iotHubs[{i}]";
            var item = items[i] as JsonObject ?? throw ArmRequests.Invalid($"'{path}' must be a JSON object.");
            var connectionString = ArmRequests.OptionalString(item, "connectionString", path + ".connectionString");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new ArmErrorException(400, "InvalidIotHubConnectionString",
                    $"'{path}.connectionString' is required: the hub's connection string from its listkeys, HostName=<hub>.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=<key>.");
            }

            var parts = ConnectionStrings.Parse(connectionString);
            var host = parts.GetValueOrDefault("HostName");
            var keyName = parts.GetValueOrDefault("SharedAccessKeyName");
            var key = parts.GetValueOrDefault("SharedAccessKey");
            if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(keyName) || string.IsNullOrEmpty(key))
            {
                throw new ArmErrorException(400, "InvalidIotHubConnectionString",
                    $"'{path}.connectionString' is not an IoT hub connection string: it needs HostName, SharedAccessKeyName and SharedAccessKey (HostName=<hub>.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=<key>).");
            }

            if (result.Any(l => l.HostName.Equals(host, StringComparison.OrdinalIgnoreCase)))
            {
                throw ArmRequests.Invalid($"The IoT hub '{host}' is linked twice ({path}); link each hub once.");
            }

            var location = ArmRequests.OptionalString(item, "location", path + ".location") is { Length: > 0 } given ? ArmNames.NormalizeLocation(given) : dpsLocation;
            var weight = ArmRequests.OptionalInteger(item, "allocationWeight", path + ".allocationWeight") ?? 1;
            if (weight is < 1 or > 1000)
            {
                throw ArmRequests.Invalid($"'{path}.allocationWeight' must be between 1 and 1000 (it is {weight}).");
            }

            var apply = ArmRequests.OptionalBool(item, "applyAllocationPolicy", path + ".applyAllocationPolicy") ?? true;

            var previous = existing?.IotHubs.FirstOrDefault(l => l.HostName.Equals(host, StringComparison.OrdinalIgnoreCase));
            var previousParts = previous is null ? null : ConnectionStrings.Parse(previous.ConnectionString);
            var masked = key.All(c => c == '*');
            if (previous is not null && previousParts is not null
                && keyName.Equals(previousParts.GetValueOrDefault("SharedAccessKeyName"), StringComparison.OrdinalIgnoreCase)
                && (masked || key == previousParts.GetValueOrDefault("SharedAccessKey")))
            {
                result.Add(new LinkedHub(previous.ConnectionString, location, apply, (int)weight));
                continue;
            }

            if (masked)
            {
                throw new ArmErrorException(400, "InvalidIotHubConnectionString",
                    $"The SharedAccessKey in '{path}.connectionString' is masked, and '{host}' is not linked with the policy '{keyName}' yet: send the full connection string from the hub's listkeys.");
            }

            var hub = ctx.Store.IotHubs.All.FirstOrDefault(h => h.HostName.Equals(host, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArmErrorException(400, "IotHubNotFound",
                    $"The IoT hub '{host}' ({path}.connectionString) does not exist in this emulator. Create the hub first (PUT .../providers/Microsoft.Devices/IotHubs/<name>) and link it with its iothubowner connection string from listkeys.");
            var policy = hub.AuthorizationPolicies.FirstOrDefault(p => p.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArmErrorException(400, "InvalidIotHubConnectionString",
                    $"The IoT hub '{host}' has no shared access policy '{keyName}' ({path}.connectionString); link with iothubowner.");
            if (!ArmRequests.KeyEquals(key, policy.PrimaryKey) && !ArmRequests.KeyEquals(key, policy.SecondaryKey))
            {
                throw new ArmErrorException(400, "InvalidIotHubConnectionString",
                    $"The SharedAccessKey in '{path}.connectionString' is not a key of the policy '{policy.KeyName}' of IoT hub '{host}': copy the connection string from the hub's listkeys again.");
            }

            var missing = HubRightsNeeded.Where(r => !ArmRequests.HasRight(policy.Rights, r)).ToArray();
            if (missing.Length > 0)
            {
                throw new ArmErrorException(400, "InvalidIotHubConnectionString",
                    $"The access policy '{policy.KeyName}' of IoT hub '{host}' lacks {string.Join(" and ", missing)}, which DPS needs to create devices in the hub; link with iothubowner.");
            }

            result.Add(new LinkedHub($"HostName={hub.HostName};SharedAccessKeyName={policy.KeyName};SharedAccessKey={key}", location, apply, (int)weight));
        }

        return result;
    }

    /// <summary>
    /// Shared access policies of a PUT. Absent: kept (a new DPS gets provisioningserviceowner). Present: they
    /// replace the old ones; a policy sent without keys (as GET shows it) keeps its keys, a new one gets new keys.
    /// </summary>
    private static List<AccessPolicy> ResolvePolicies(JsonArray? items, ProvisioningServiceEntity? existing)
    {
        if (items is null || (items.Count == 0 && existing is null))
        {
            return existing?.AuthorizationPolicies ?? [new AccessPolicy(OwnerPolicy, EmulatorContext.NewKey(), EmulatorContext.NewKey(), string.Join(", ", Rights))];
        }

        var result = new List<AccessPolicy>();
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"properties.authorizationPolicies[{i}]";
            var item = items[i] as JsonObject ?? throw ArmRequests.Invalid($"'{path}' must be a JSON object.");
            var keyName = ArmRequests.OptionalString(item, "keyName", path + ".keyName");
            if (string.IsNullOrWhiteSpace(keyName) || keyName.Length > 64)
            {
                throw ArmRequests.Invalid($"'{path}.keyName' is required (1 to 64 characters).");
            }

            if (result.Any(p => p.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase)))
            {
                throw ArmRequests.Invalid($"The shared access policy '{keyName}' appears twice in properties.authorizationPolicies.");
            }

            var rights = ArmRequests.NormalizeRights(ArmRequests.OptionalString(item, "rights", path + ".rights"), Rights, path + ".rights");
            var previous = existing?.AuthorizationPolicies.FirstOrDefault(p => p.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase));
            var primary = ArmRequests.OptionalString(item, "primaryKey", path + ".primaryKey");
            var secondary = ArmRequests.OptionalString(item, "secondaryKey", path + ".secondaryKey");
            result.Add(new AccessPolicy(
                keyName,
                string.IsNullOrEmpty(primary) && previous is not null ? previous.PrimaryKey : ArmRequests.KeyOrNew(primary, path + ".primaryKey"),
                string.IsNullOrEmpty(secondary) && previous is not null ? previous.SecondaryKey : ArmRequests.KeyOrNew(secondary, path + ".secondaryKey"),
                rights));
        }

        return result;
    }
}
