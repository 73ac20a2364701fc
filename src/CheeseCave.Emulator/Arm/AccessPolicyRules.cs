using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Arm;

/// <summary>Shared access policies of DPS and hubs: keys, rights, and how a PUT's policy list replaces the stored one.</summary>
internal static class AccessPolicyRules
{
    /// <summary>
    /// Shared access policies of a DPS PUT. Absent: kept (a new DPS gets provisioningserviceowner). Present: they
    /// replace the old ones; a policy sent without keys (as GET shows it) keeps its keys, a new one gets new keys.
    /// </summary>
    public static List<AccessPolicy> ResolveProvisioningServicePolicies(JsonArray? items, ProvisioningServiceEntity? existing)
    {
        if (items is null || (items.Count == 0 && existing is null))
        {
            return existing?.AuthorizationPolicies
                ?? [new AccessPolicy(ProvisioningServiceStore.OwnerPolicy, EmulatorContext.NewKey(), EmulatorContext.NewKey(), string.Join(", ", ProvisioningServiceStore.Rights))];
        }

        var result = new List<AccessPolicy>();
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"properties.authorizationPolicies[{i}]";
            var item = items[i] as JsonObject ?? throw ArmErrors.NotAnObject(path);
            var keyName = ArmRequests.OptionalString(item, "keyName", path + ".keyName");
            if (string.IsNullOrWhiteSpace(keyName) || keyName.Length > 64)
            {
                throw ArmErrors.PolicyKeyNameRequired(path);
            }

            if (result.Any(p => p.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase)))
            {
                throw ArmErrors.PolicyTwice(keyName);
            }

            var rights = NormalizeRights(ArmRequests.OptionalString(item, "rights", path + ".rights"), ProvisioningServiceStore.Rights, path + ".rights");
            var previous = existing?.AuthorizationPolicies.FirstOrDefault(p => p.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase));
            var primary = ArmRequests.OptionalString(item, "primaryKey", path + ".primaryKey");
            var secondary = ArmRequests.OptionalString(item, "secondaryKey", path + ".secondaryKey");
            result.Add(new AccessPolicy(
                keyName,
                string.IsNullOrEmpty(primary) && previous is not null ? previous.PrimaryKey : KeyOrNew(primary, path + ".primaryKey"),
                string.IsNullOrEmpty(secondary) && previous is not null ? previous.SecondaryKey : KeyOrNew(secondary, path + ".secondaryKey"),
                rights));
        }

        return result;
    }

    /// <summary>A shared access key: 32 random bytes, or a caller's key if it is base64 of 16 to 64 bytes.</summary>
    public static string KeyOrNew(string? given, string path)
    {
        if (string.IsNullOrEmpty(given)) return EmulatorContext.NewKey();
        var buffer = new byte[given.Length];
        if (!Convert.TryFromBase64String(given, buffer, out var length) || length < 16 || length > 64)
        {
            throw ArmErrors.InvalidSharedAccessKey(path);
        }

        return given;
    }

    /// <summary>Compares two shared access keys without leaking timing.</summary>
    public static bool KeyEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>Parses "A, B" against the allowed rights (any case), returning them in canonical spelling.</summary>
    public static string NormalizeRights(string? rights, IReadOnlyList<string> allowed, string path)
    {
        if (string.IsNullOrWhiteSpace(rights))
        {
            throw ArmErrors.RightsRequired(path, allowed);
        }

        var result = new List<string>();
        foreach (var part in rights.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var known = allowed.FirstOrDefault(a => a.Equals(part, StringComparison.OrdinalIgnoreCase))
                ?? throw ArmErrors.UnknownRight(path, part, allowed);
            if (!result.Contains(known)) result.Add(known);
        }

        if (result.Count == 0)
        {
            throw ArmErrors.RightsRequired(path, allowed);
        }

        return string.Join(", ", result);
    }

    public static bool HasRight(string rights, string right) =>
        rights.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Contains(right, StringComparer.OrdinalIgnoreCase);

    /// <summary>The policy named <paramref name="keyName"/> (any case), or null.</summary>
    public static AccessPolicy? Find(IEnumerable<AccessPolicy> policies, string keyName) =>
        policies.FirstOrDefault(p => p.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase));
}
