using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// The hub links of a DPS PUT. A new or changed link must name a hub this emulator runs, with a key of a policy
/// holding RegistryWrite and ServiceConnect (what DPS needs to create devices). A link sent back as GET showed it
/// (key masked) or unchanged keeps the stored connection string.
/// </summary>
internal static class LinkedHubRules
{
    public const int MaxLinkedHubs = 50;

    /// <summary>What DPS needs on a linked hub's policy to create devices there.</summary>
    public static readonly IReadOnlyList<string> HubRightsNeeded = ["RegistryWrite", "ServiceConnect"];

    public static List<LinkedHub> Resolve(EmulatorContext ctx, JsonArray items, ProvisioningServiceEntity? existing, string dpsLocation)
    {
        if (items.Count > MaxLinkedHubs)
        {
            throw ArmErrors.TooManyLinkedIotHubs(MaxLinkedHubs, items.Count);
        }

        var result = new List<LinkedHub>();
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"properties.iotHubs[{i}]";
            var item = items[i] as JsonObject ?? throw ArmErrors.NotAnObject(path);
            var connectionString = ArmRequests.OptionalString(item, "connectionString", path + ".connectionString");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw ArmErrors.HubConnectionStringRequired(path);
            }

            var parts = ConnectionStrings.Parse(connectionString);
            var host = parts.GetValueOrDefault("HostName");
            var keyName = parts.GetValueOrDefault("SharedAccessKeyName");
            var key = parts.GetValueOrDefault("SharedAccessKey");
            if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(keyName) || string.IsNullOrEmpty(key))
            {
                throw ArmErrors.HubConnectionStringMalformed(path);
            }

            if (result.Any(l => l.HostName.Equals(host, StringComparison.OrdinalIgnoreCase)))
            {
                throw ArmErrors.LinkedHubTwice(host, path);
            }

            var location = ArmRequests.OptionalString(item, "location", path + ".location") is { Length: > 0 } given ? ArmNames.NormalizeLocation(given) : dpsLocation;
            var weight = ArmRequests.OptionalInteger(item, "allocationWeight", path + ".allocationWeight") ?? 1;
            if (weight is < 1 or > 1000)
            {
                throw ArmErrors.AllocationWeightOutOfRange(path, weight);
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
                throw ArmErrors.HubKeyMasked(path, host, keyName);
            }

            var hub = ctx.Store.IotHubs.All.FirstOrDefault(h => h.HostName.Equals(host, StringComparison.OrdinalIgnoreCase))
                ?? throw ArmErrors.LinkedHubNotFound(host, path);
            var policy = AccessPolicyRules.Find(hub.AuthorizationPolicies, keyName)
                ?? throw ArmErrors.HubPolicyNotFound(host, keyName, path);
            if (!AccessPolicyRules.KeyEquals(key, policy.PrimaryKey) && !AccessPolicyRules.KeyEquals(key, policy.SecondaryKey))
            {
                throw ArmErrors.HubKeyWrong(path, policy.KeyName, host);
            }

            var missing = HubRightsNeeded.Where(r => !AccessPolicyRules.HasRight(policy.Rights, r)).ToArray();
            if (missing.Length > 0)
            {
                throw ArmErrors.HubPolicyLacksRights(policy.KeyName, host, missing);
            }

            result.Add(new LinkedHub($"HostName={hub.HostName};SharedAccessKeyName={policy.KeyName};SharedAccessKey={key}", location, apply, (int)weight));
        }

        return result;
    }
}
