using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// The rules of provisioning services, applied against the store: names are global and valid, a PUT honours
/// If-Match and cannot move a DPS, hub links and policies are resolved against the current state, and a delete
/// takes everything the DPS owns with it. Every check runs inside the store transaction, before its one write.
/// </summary>
internal static class ProvisioningServiceStore
{
    public const string OwnerPolicy = "provisioningserviceowner";

    public static readonly IReadOnlyList<string> Rights =
        ["ServiceConfig", "EnrollmentRead", "EnrollmentWrite", "DeviceConnect", "RegistrationStatusRead", "RegistrationStatusWrite"];

    /// <summary>The DPS at this path, or an ARM 404 thrown (subscription, resource group or DPS).</summary>
    public static ProvisioningServiceEntity Require(EmulatorContext ctx, string subscriptionId, string resourceGroupName, string name)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ResourceGroupStore.Require(ctx, subscriptionId, resourceGroupName);
        var dps = ctx.Store.ProvisioningServices.Get(ArmKeys.ProvisioningService(name));
        if (dps is null || !InGroup(dps, subscriptionId, resourceGroupName))
        {
            throw ArmErrors.ResourceNotFound(ProvisioningServiceJson.ResourceType, name, resourceGroupName);
        }

        return dps;
    }

    public static IEnumerable<ProvisioningServiceEntity> InSubscription(EmulatorContext ctx, string subscriptionId) =>
        ctx.Store.ProvisioningServices.All
            .Where(d => d.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase))
            .OrderBy(d => d.Name, StringComparer.OrdinalIgnoreCase);

    public static IEnumerable<ProvisioningServiceEntity> InGroup(EmulatorContext ctx, string subscriptionId, string resourceGroupName) =>
        ctx.Store.ProvisioningServices.All
            .Where(d => InGroup(d, subscriptionId, resourceGroupName))
            .OrderBy(d => d.Name, StringComparer.OrdinalIgnoreCase);

    public static void RequireValidName(string name)
    {
        if (!ArmNames.IsValidDevicesResourceName(name))
        {
            throw ArmErrors.InvalidProvisioningServiceName(name);
        }
    }

    public static bool Exists(EmulatorContext ctx, string name) => ctx.Store.ProvisioningServices.Get(ArmKeys.ProvisioningService(name)) is not null;

    /// <summary>Creates or updates a DPS; <paramref name="ifMatch"/> is the header as sent (empty when absent).</summary>
    public static Task<(ProvisioningServiceEntity Dps, bool Created)> PutAsync(
        EmulatorContext ctx, string subscriptionId, string resourceGroupName, string name, ProvisioningServiceDefinition definition, string? ifMatch)
    {
        var key = ArmKeys.ProvisioningService(name);
        return ctx.Store.WriteAsync(tx =>
        {
            // Everything that can fail is checked before the one Put, so a refused request changes nothing.
            var existing = ctx.Store.ProvisioningServices.Get(key);
            if (existing is not null && !InGroup(existing, subscriptionId, resourceGroupName))
            {
                throw ArmErrors.ProvisioningServiceNameUnavailable(name, existing.ResourceGroup, existing.Name);
            }

            if (existing is not null)
            {
                IfMatch.CheckOptional(ifMatch, existing.Etag, "provisioning service", existing.Name);
                if (!existing.Location.Equals(definition.Location, StringComparison.OrdinalIgnoreCase))
                {
                    throw ArmErrors.InvalidResourceLocation(existing.Name, existing.Location, existing.ResourceGroup, definition.Location);
                }
            }

            var hubs = definition.IotHubs is null ? existing?.IotHubs ?? [] : LinkedHubRules.Resolve(ctx, definition.IotHubs, existing, definition.Location);
            var policies = AccessPolicyRules.ResolveProvisioningServicePolicies(definition.AuthorizationPolicies, existing);
            var entity = new ProvisioningServiceEntity(
                subscriptionId,
                existing?.ResourceGroup ?? resourceGroupName,
                existing?.Name ?? name,
                existing?.Location ?? definition.Location,
                definition.Tags ?? existing?.Tags ?? [],
                "S1",
                definition.Capacity ?? existing?.SkuCapacity ?? 1,
                existing?.IdScope ?? NewIdScope(ctx),
                definition.AllocationPolicy ?? existing?.AllocationPolicy ?? "Hashed",
                hubs,
                policies,
                EmulatorContext.NewEtag(),
                existing?.CreatedAt ?? ctx.Time.GetUtcNow());
            tx.Put(ctx.Store.ProvisioningServices, key, entity);
            return (entity, existing is null);
        });
    }

    public static Task<ProvisioningServiceEntity> UpdateTagsAsync(EmulatorContext ctx, string subscriptionId, string resourceGroupName, string name, Dictionary<string, string> tags) =>
        ctx.Store.WriteAsync(tx =>
        {
            var current = Require(ctx, subscriptionId, resourceGroupName, name);
            var updated = current with { Tags = tags, Etag = EmulatorContext.NewEtag() };
            tx.Put(ctx.Store.ProvisioningServices, ArmKeys.ProvisioningService(current.Name), updated);
            return updated;
        });

    /// <summary>
    /// Deletes the DPS and everything that belongs to it: certificates, enrollments, registrations and device
    /// operations. False when there was no such DPS in the group.
    /// </summary>
    public static Task<bool> DeleteAsync(EmulatorContext ctx, string subscriptionId, string resourceGroupName, string name)
    {
        ResourceGroupStore.Require(ctx, subscriptionId, resourceGroupName);
        return ctx.Store.WriteAsync(tx =>
        {
            var key = ArmKeys.ProvisioningService(name);
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
        });
    }

    private static bool InGroup(ProvisioningServiceEntity dps, string subscriptionId, string resourceGroupName) =>
        dps.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase) && dps.ResourceGroup.Equals(resourceGroupName, StringComparison.OrdinalIgnoreCase);

    /// <summary>A fresh ID Scope, unique among this emulator's services.</summary>
    private static string NewIdScope(EmulatorContext ctx)
    {
        while (true)
        {
            var scope = EmulatorContext.NewIdScope();
            if (!ctx.Store.ProvisioningServices.All.Any(d => d.IdScope.Equals(scope, StringComparison.OrdinalIgnoreCase))) return scope;
        }
    }
}
