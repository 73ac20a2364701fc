using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>The rules of resource groups: the subscription and name must be valid, and only an empty group is deleted.</summary>
internal static class ResourceGroupStore
{
    /// <summary>The resource group must exist, as on Azure; throws the ARM 404 (subscription or group) otherwise.</summary>
    public static void Require(EmulatorContext ctx, string subscriptionId, string resourceGroupName)
    {
        if (!ArmEndpoints.KnownSubscription(ctx, subscriptionId))
        {
            throw ArmErrors.SubscriptionNotFound(subscriptionId);
        }

        if (ctx.Store.ResourceGroups.Get(ArmKeys.ResourceGroup(subscriptionId, resourceGroupName)) is null)
        {
            throw ArmErrors.ResourceGroupNotFound(resourceGroupName);
        }
    }

    public static void RequireValidName(string resourceGroupName)
    {
        if (!ArmNames.IsValidResourceGroupName(resourceGroupName))
        {
            throw ArmErrors.InvalidResourceGroupName(resourceGroupName);
        }
    }

    /// <summary>Creates or updates a group; an existing group keeps its name spelling and location.</summary>
    public static async Task<(ResourceGroupEntity Group, bool Created)> PutAsync(
        EmulatorContext ctx, string subscriptionId, string resourceGroupName, string? location, Dictionary<string, string>? tags)
    {
        RequireValidName(resourceGroupName);
        if (string.IsNullOrEmpty(location))
        {
            throw ArmErrors.LocationRequired();
        }

        var key = ArmKeys.ResourceGroup(subscriptionId, resourceGroupName);
        var existing = ctx.Store.ResourceGroups.Get(key);
        var entity = new ResourceGroupEntity(subscriptionId, existing?.Name ?? resourceGroupName, existing?.Location ?? ArmNames.NormalizeLocation(location), tags ?? existing?.Tags ?? []);
        await ctx.Store.WriteAsync(tx => tx.Put(ctx.Store.ResourceGroups, key, entity)).ConfigureAwait(false);
        return (entity, existing is null);
    }

    /// <summary>Deletes an empty group; a group that still holds a DPS or hub is refused.</summary>
    public static async Task DeleteAsync(EmulatorContext ctx, string subscriptionId, string resourceGroupName)
    {
        var key = ArmKeys.ResourceGroup(subscriptionId, resourceGroupName);
        if (ctx.Store.ResourceGroups.Get(key) is null)
        {
            throw ArmErrors.ResourceGroupNotFound(resourceGroupName);
        }

        var inGroup = ctx.Store.ProvisioningServices.All.Any(d => ArmKeys.ResourceGroup(d.SubscriptionId, d.ResourceGroup) == key)
            || ctx.Store.IotHubs.All.Any(h => ArmKeys.ResourceGroup(h.SubscriptionId, h.ResourceGroup) == key);
        if (inGroup)
        {
            throw ArmErrors.ResourceGroupNotEmpty(resourceGroupName);
        }

        await ctx.Store.WriteAsync(tx => tx.Delete(ctx.Store.ResourceGroups, key)).ConfigureAwait(false);
    }
}
