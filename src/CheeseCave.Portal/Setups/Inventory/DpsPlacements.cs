using System.Collections.Concurrent;
using System.Security.Claims;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Errors;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Setups.Inventory;

/// <summary>
/// Where the devices on one inventory page are now, read live from each setup's DPS (the registration record:
/// assigned hub, last registration, substatus). Bounded: a few reads at a time and a short timeout per setup; a DPS
/// that does not answer becomes one "DPS not reachable: …" sentence, never an exception.
/// </summary>
public sealed class DpsPlacements(SetupPipeline pipeline, IOptions<InventoryOptions> options)
{
    public async Task<IReadOnlyList<string>> FillAsync(ClaimsPrincipal caller, List<InventoryRow> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var bySetup = rows.Select((row, index) => (row, index)).Where(r => r.row.Kind == InventoryKind.Device).GroupBy(r => r.row.SetupId).ToList();
        if (bySetup.Count == 0)
        {
            return [];
        }

        var setupIds = bySetup.Select(g => g.Key).ToList();
        List<DpsSetup> setups;
        await using (var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            setups = await db.Setups.AsNoTracking().Where(s => setupIds.Contains(s.Id)).ToListAsync(cancellationToken).ConfigureAwait(false);
        }

        var problems = new List<string>();
        foreach (var group in bySetup)
        {
            if (setups.FirstOrDefault(s => s.Id == group.Key) is not { ResourceGroup: { } resourceGroup, DpsName: { } dpsName } setup)
            {
                continue;
            }

            var placements = new ConcurrentDictionary<int, DpsPlacement>();
            var problem = await ReadAsync(caller, resourceGroup, dpsName, [.. group.Select(g => (g.index, g.row.Name))], placements, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                problems.Add($"DPS not reachable for setup \"{setup.Name}\" ({dpsName}): {problem} Registration states are not shown for its devices; refresh to try again.");
                continue;
            }

            foreach (var (index, placement) in placements)
            {
                rows[index] = rows[index] with { Placement = placement };
            }
        }

        return problems;
    }

    /// <summary>As DPS spells it on the wire and in its documentation ("assigned", "initialAssignment").</summary>
    private static string? Wire(string? name) => string.IsNullOrEmpty(name) ? name : char.ToLowerInvariant(name[0]) + name[1..];

    /// <summary>Null when every record was read; otherwise why not, in one sentence.</summary>
    private async Task<string?> ReadAsync(ClaimsPrincipal caller, string resourceGroup, string dpsName, List<(int Index, string RegistrationId)> devices,
        ConcurrentDictionary<int, DpsPlacement> placements, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.DpsTimeout);
        try
        {
            var arm = pipeline.Provisioning.CreateArmClient(caller);
            using var client = await pipeline.DpsServiceAsync(caller, arm, resourceGroup, dpsName, timeout.Token).ConfigureAwait(false);
            await Parallel.ForEachAsync(devices, new ParallelOptions { MaxDegreeOfParallelism = settings.DpsConcurrency, CancellationToken = timeout.Token }, async (device, token) =>
            {
                var state = await client.GetDeviceRegistrationStateAsync(device.RegistrationId, token).ConfigureAwait(false);
                placements[device.Index] = state is null
                    ? DpsPlacement.NotRegistered
                    : new DpsPlacement(true, Wire(state.Status?.ToString()), state.AssignedHub, state.LastUpdatedDateTimeUtc ?? state.CreatedDateTimeUtc, Wire(state.Substatus?.ToString()),
                        state.ErrorCode is { } code ? $"{code}: {state.ErrorMessage}" : null);
            }).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {settings.DpsTimeout.TotalSeconds:0.#} seconds.";
        }
        catch (ProvisioningException ex)
        {
            return ex.Message.EndsWith('.') ? ex.Message : ex.Message + ".";
        }
        catch (HttpRequestException ex)
        {
            return ex.Message.EndsWith('.') ? ex.Message : ex.Message + ".";
        }
    }
}
