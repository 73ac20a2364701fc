using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Hosting;

/// <summary>Like the Learn sandbox: one subscription (fixed in the options) and one resource group exist from the start.</summary>
internal static class Seeding
{
    public static Task SeedAsync(EmulatorContext context)
    {
        var key = ArmKeys.ResourceGroup(context.Options.SubscriptionId, context.Options.ResourceGroup);
        if (context.Store.ResourceGroups.Get(key) is not null)
        {
            return Task.CompletedTask;
        }

        return context.Store.WriteAsync(tx => tx.Put(context.Store.ResourceGroups, key,
            new ResourceGroupEntity(context.Options.SubscriptionId, context.Options.ResourceGroup, context.Options.Location, new Dictionary<string, string> { ["purpose"] = "cheesecave" })));
    }
}

/// <summary>Store keys for ARM resources: case-insensitive, like ARM names.</summary>
internal static class ArmKeys
{
    public static string ResourceGroup(string subscription, string group) => $"{subscription}/{group}".ToLowerInvariant();

    /// <summary>DPS names are global (they form a host name), so the key is the name alone.</summary>
    public static string ProvisioningService(string name) => name.ToLowerInvariant();

    public static string IotHub(string name) => name.ToLowerInvariant();

    public static string DpsCertificate(string dps, string certificate) => $"{dps}/{certificate}".ToLowerInvariant();

    public static string Enrollment(string dps, bool group, string id) => $"{dps}/{(group ? "g" : "i")}/{id}".ToLowerInvariant();

    public static string Registration(string dps, string registrationId) => $"{dps}/{registrationId}".ToLowerInvariant();

    public static string HubDevice(string hub, string deviceId) => $"{hub.ToLowerInvariant()}/{deviceId}";
}
