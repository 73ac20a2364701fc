using System.Text.Json;
using CheeseCave.Portal.Cluster;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Operations;

/// <summary>
/// The long operations as stored, so every portal instance sees them: one row per (setup, kind), claimed by the
/// instance that runs it. Claiming is one conditional update (or the first insert under the primary key), so two
/// instances asked at once cannot both start; every later write names the claim (instance and start time), so a
/// claim taken over after its instance died is never overwritten by it.
/// </summary>
public sealed class SetupOperationLedger(IDbContextFactory<PortalDbContext> contexts, PortalInstance instance)
{
    /// <summary>Claims (setup, kind) for this instance unless a live instance runs it; returns the running status otherwise.</summary>
    public async Task<(bool Claimed, SetupOperationStatus? Running)> TryClaimAsync(SetupOperationStatus status, string? startedById,
        IReadOnlyCollection<string> aliveInstances, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        var kind = status.Kind.ToString();
        var alive = aliveInstances.ToList();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var taken = await db.SetupOperations
            .Where(o => o.SetupId == status.SetupId && o.Kind == kind && (o.EndedAt != null || !alive.Contains(o.InstanceId)))
            .ExecuteUpdateAsync(s => s
                .SetProperty(o => o.Subject, status.Subject).SetProperty(o => o.StartedBy, status.StartedBy).SetProperty(o => o.StartedById, startedById)
                .SetProperty(o => o.StartedAt, status.StartedAt).SetProperty(o => o.Progress, status.Progress).SetProperty(o => o.EndedAt, (DateTimeOffset?)null)
                .SetProperty(o => o.ErrorJson, (string?)null).SetProperty(o => o.PendingJson, (string?)null).SetProperty(o => o.InstanceId, instance.Id),
                cancellationToken).ConfigureAwait(false);
        if (taken == 1)
        {
            return (true, null);
        }

        db.SetupOperations.Add(new SetupOperationRecord
        {
            SetupId = status.SetupId, Kind = kind, Subject = status.Subject, StartedBy = status.StartedBy, StartedById = startedById,
            StartedAt = status.StartedAt, Progress = status.Progress, InstanceId = instance.Id,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return (true, null);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            var running = await FindAsync(status.SetupId, status.Kind, cancellationToken).ConfigureAwait(false);
            return (false, running?.Status);
        }
    }

    /// <summary>Writes this instance's latest status of its own claim (progress, or how it ended).</summary>
    public async Task SaveAsync(SetupOperationStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        var kind = status.Kind.ToString();
        var error = status.Error is null ? null : JsonSerializer.Serialize(status.Error);
        var pending = status.Pending is null ? null : JsonSerializer.Serialize(status.Pending);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await db.SetupOperations
            .Where(o => o.SetupId == status.SetupId && o.Kind == kind && o.InstanceId == instance.Id && o.StartedAt == status.StartedAt)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Progress, Trim(status.Progress)).SetProperty(o => o.EndedAt, status.EndedAt)
                .SetProperty(o => o.ErrorJson, error).SetProperty(o => o.PendingJson, pending), cancellationToken).ConfigureAwait(false);
    }

    public async Task<(SetupOperationStatus Status, string InstanceId)?> FindAsync(int setupId, SetupOperationKind kind, CancellationToken cancellationToken)
    {
        var name = kind.ToString();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.SetupOperations.AsNoTracking().FirstOrDefaultAsync(o => o.SetupId == setupId && o.Kind == name, cancellationToken).ConfigureAwait(false);
        return row is null ? null : (ToStatus(row), row.InstanceId);
    }

    /// <summary>Operations running, or ended since <paramref name="since"/>, run by other instances.</summary>
    public async Task<IReadOnlyList<SetupOperationStatus>> OthersAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.SetupOperations.AsNoTracking().Where(o => o.InstanceId != instance.Id && (o.EndedAt == null || o.EndedAt > since))
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(ToStatus)];
    }

    /// <summary>Ends every running operation whose instance is not alive with <paramref name="error"/>; returns what it ended.</summary>
    public async Task<IReadOnlyList<SetupOperationStatus>> EndOrphansAsync(IReadOnlyCollection<string> aliveInstances, DateTimeOffset now,
        Func<SetupOperationKind, PortalError> error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aliveInstances);
        ArgumentNullException.ThrowIfNull(error);
        var alive = aliveInstances.ToList();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var orphans = await db.SetupOperations.AsNoTracking().Where(o => o.EndedAt == null && !alive.Contains(o.InstanceId))
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var ended = new List<SetupOperationStatus>();
        foreach (var orphan in orphans)
        {
            var status = ToStatus(orphan) with { EndedAt = now, Error = error(Enum.Parse<SetupOperationKind>(orphan.Kind)) };
            var json = JsonSerializer.Serialize(status.Error);
            var changed = await db.SetupOperations
                .Where(o => o.SetupId == orphan.SetupId && o.Kind == orphan.Kind && o.InstanceId == orphan.InstanceId && o.StartedAt == orphan.StartedAt && o.EndedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.EndedAt, now).SetProperty(o => o.ErrorJson, json), cancellationToken).ConfigureAwait(false);
            if (changed == 1)
            {
                ended.Add(status);
            }
        }

        return ended;
    }

    private static SetupOperationStatus ToStatus(SetupOperationRecord row) => new(
        row.SetupId, Enum.Parse<SetupOperationKind>(row.Kind), row.Subject, row.StartedBy, row.StartedAt, row.Progress, row.EndedAt,
        row.ErrorJson is null ? null : JsonSerializer.Deserialize<PortalError>(row.ErrorJson),
        row.PendingJson is null ? null : JsonSerializer.Deserialize<ApprovalTicket>(row.PendingJson));

    private static string? Trim(string? text) => text is { Length: > 500 } ? text[..500] : text;
}
