using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// The rules of IoT hubs, applied against the store: names are global and valid, a PUT honours If-Match and cannot
/// move a hub, and a delete takes the hub's devices with it (DPS links to it stay, as on Azure).
/// </summary>
internal static class IotHubStore
{
    /// <summary>The hub at this path, or an ARM 404 thrown (subscription, resource group or hub).</summary>
    public static IotHubEntity Require(EmulatorContext ctx, string subscriptionId, string resourceGroupName, string name)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ResourceGroupStore.Require(ctx, subscriptionId, resourceGroupName);
        var hub = ctx.Store.IotHubs.Get(ArmKeys.IotHub(name));
        if (hub is null || !InGroup(hub, subscriptionId, resourceGroupName))
        {
            throw ArmErrors.ResourceNotFound(IotHubJson.ResourceType, name, resourceGroupName);
        }

        return hub;
    }

    public static IEnumerable<IotHubEntity> InSubscription(EmulatorContext ctx, string subscriptionId) =>
        ctx.Store.IotHubs.All
            .Where(h => h.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase))
            .OrderBy(h => h.Name, StringComparer.OrdinalIgnoreCase);

    public static IEnumerable<IotHubEntity> InGroup(EmulatorContext ctx, string subscriptionId, string resourceGroupName) =>
        ctx.Store.IotHubs.All.Where(h => InGroup(h, subscriptionId, resourceGroupName)).OrderBy(h => h.Name, StringComparer.OrdinalIgnoreCase);

    public static void RequireValidName(string name)
    {
        if (!ArmNames.IsValidDevicesResourceName(name))
        {
            throw ArmErrors.InvalidIotHubName(name);
        }
    }

    public static bool Exists(EmulatorContext ctx, string name) => ctx.Store.IotHubs.Get(ArmKeys.IotHub(name)) is not null;

    /// <summary>Creates or updates a hub; <paramref name="ifMatch"/> is the header as sent (empty when absent).</summary>
    public static Task<(IotHubEntity Hub, bool Created)> PutAsync(
        EmulatorContext ctx, string subscriptionId, string resourceGroupName, string name, IotHubDefinition definition, string? ifMatch)
    {
        var key = ArmKeys.IotHub(name);
        return ctx.Store.WriteAsync(tx =>
        {
            var existing = ctx.Store.IotHubs.Get(key);
            if (existing is not null && !InGroup(existing, subscriptionId, resourceGroupName))
            {
                throw ArmErrors.IotHubNameNotAvailable(name, existing.ResourceGroup, existing.HostName);
            }

            if (existing is not null)
            {
                IfMatch.CheckOptional(ifMatch, existing.Etag, "IoT hub", existing.Name);
                if (!existing.Location.Equals(definition.Location, StringComparison.OrdinalIgnoreCase))
                {
                    throw ArmErrors.InvalidResourceLocation(existing.Name, existing.Location, existing.ResourceGroup, definition.Location);
                }
            }

            var now = ctx.Time.GetUtcNow();
            var entity = new IotHubEntity(
                subscriptionId,
                existing?.ResourceGroup ?? resourceGroupName,
                existing?.Name ?? name,
                existing?.Location ?? definition.Location,
                definition.Tags ?? existing?.Tags ?? [],
                definition.Sku,
                definition.Capacity,
                existing?.AuthorizationPolicies ?? DefaultPolicies(),
                EmulatorContext.NewEtag(),
                existing?.CreatedAt ?? now);
            tx.Put(ctx.Store.IotHubs, key, entity);
            return (entity, existing is null);
        });
    }

    public static Task<IotHubEntity> UpdateTagsAsync(EmulatorContext ctx, string subscriptionId, string resourceGroupName, string name, Dictionary<string, string> tags) =>
        ctx.Store.WriteAsync(tx =>
        {
            var current = Require(ctx, subscriptionId, resourceGroupName, name);
            var updated = current with { Tags = tags, Etag = EmulatorContext.NewEtag() };
            tx.Put(ctx.Store.IotHubs, ArmKeys.IotHub(name), updated);
            return updated;
        });

    /// <summary>Deletes the hub and its devices; false when there was no such hub in the group.</summary>
    public static Task<bool> DeleteAsync(EmulatorContext ctx, string subscriptionId, string resourceGroupName, string name)
    {
        ResourceGroupStore.Require(ctx, subscriptionId, resourceGroupName);
        return ctx.Store.WriteAsync(tx =>
        {
            var key = ArmKeys.IotHub(name);
            var hub = ctx.Store.IotHubs.Get(key);
            if (hub is null || !InGroup(hub, subscriptionId, resourceGroupName)) return false;
            foreach (var (deviceKey, device) in ctx.Store.HubDevices.Rows)
            {
                if (device.Hub.Equals(hub.Name, StringComparison.OrdinalIgnoreCase)) tx.Delete(ctx.Store.HubDevices, deviceKey);
            }

            tx.Delete(ctx.Store.IotHubs, key);
            return true;
        });
    }

    private static bool InGroup(IotHubEntity hub, string subscriptionId, string resourceGroupName) =>
        hub.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase) && hub.ResourceGroup.Equals(resourceGroupName, StringComparison.OrdinalIgnoreCase);

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
