using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Device;

/// <summary>The IoT hub chosen for a device, or why none could be.</summary>
internal sealed record Allocation(LinkedHub? Hub, string Policy, string? Failure, bool NotEmulated = false);

/// <summary>
/// DPS allocation policies over the linked hubs: hashed (weighted, deterministic per registration ID), static
/// (exactly one hub), geoLatency (a hub in the DPS's region, else the first). Custom (Azure Functions) is not emulated.
/// </summary>
internal static class HubAllocator
{
    public static Allocation Allocate(ProvisioningServiceEntity dps, EnrollmentView enrollment, string registrationId)
    {
        var policy = Normalize(enrollment.AllocationPolicy) ?? Normalize(dps.AllocationPolicy) ?? "hashed";
        if (policy == "custom")
        {
            return new Allocation(null, policy, "Custom allocation (Azure Functions) is not emulated: use hashed, geoLatency or static allocation with the emulator.", NotEmulated: true);
        }

        List<LinkedHub> candidates;
        var listed = enrollment.IotHubs;
        if (listed.Count > 0)
        {
            candidates = dps.IotHubs.Where(h => listed.Contains(h.HostName, StringComparer.OrdinalIgnoreCase)).ToList();
            if (candidates.Count == 0)
            {
                return new Allocation(null, policy,
                    $"None of the IoT hubs of {enrollment.Kind} ({string.Join(", ", listed)}) is linked to DPS '{dps.Name}'. Link the hub to the DPS or change the enrollment's iotHubs.");
            }
        }
        else
        {
            candidates = dps.IotHubs.Where(h => h.ApplyAllocationPolicy).ToList();
            if (candidates.Count == 0)
            {
                return new Allocation(null, policy, dps.IotHubs.Count == 0
                    ? $"DPS '{dps.Name}' has no linked IoT hub to assign the device to. Link an IoT hub first."
                    : $"No IoT hub linked to DPS '{dps.Name}' has applyAllocationPolicy set, and {enrollment.Kind} lists no iotHubs.");
            }
        }

        // A stable order, so the same registration ID always lands on the same hub.
        candidates = candidates.OrderBy(h => h.HostName, StringComparer.OrdinalIgnoreCase).ToList();
        switch (policy)
        {
            case "static":
                return candidates.Count == 1
                    ? new Allocation(candidates[0], policy, null)
                    : new Allocation(null, policy, $"Static allocation needs exactly one IoT hub, but {candidates.Count} are candidates ({string.Join(", ", candidates.Select(h => h.HostName))}). List a single hub in the enrollment's iotHubs.");
            case "geolatency":
                var region = Region(dps.Location);
                return new Allocation(candidates.FirstOrDefault(h => Region(h.Location) == region) ?? candidates[0], "geoLatency", null);
            default:
                return new Allocation(Hashed(candidates, registrationId), "hashed", null);
        }
    }

    /// <summary>Weighted choice by SHA-256 of the lower-case registration ID; a weight below 1 counts as 1.</summary>
    public static LinkedHub Hashed(IReadOnlyList<LinkedHub> candidates, string registrationId)
    {
        var total = candidates.Sum(h => (long)Math.Max(1, h.AllocationWeight));
        var hash = BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(registrationId.ToLowerInvariant())));
        var point = (long)(hash % (ulong)total);
        foreach (var hub in candidates)
        {
            point -= Math.Max(1, hub.AllocationWeight);
            if (point < 0) return hub;
        }

        return candidates[^1];
    }

    private static string? Normalize(string? policy) => string.IsNullOrWhiteSpace(policy) ? null : policy.Trim().ToLowerInvariant();

    private static string Region(string location) => location.Replace(" ", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
}
