using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>
/// At start-up (after the database is migrated) memory is empty, so the keys of every re-issued batch whose download
/// window had not ended, or that never reached the window (the portal stopped between recording the certificates and
/// the step's final save), are gone. Those batches are marked lost, audited, and the rollover page offers to re-issue
/// their devices again: certificates without keys are never silent.
/// </summary>
public sealed class RolloverKeySweep(IDbContextFactory<PortalDbContext> contexts, AuditLog audit, TimeProvider time) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        // DateTimeOffset comparisons do not translate on SQLite: the few open batches are filtered here.
        var open = await db.RolloverBatches.Where(b => b.KeysLostAt == null && b.ReplacedByBatchId == null).ToListAsync(cancellationToken).ConfigureAwait(false);
        var lost = open.Where(b => b.KeysKeptUntil is null || b.KeysKeptUntil > now).ToList();
        foreach (var batch in lost)
        {
            batch.KeysLostAt = now;
        }

        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        foreach (var batch in lost)
        {
            var why = batch.KeysKeptUntil is null ? "the portal stopped before they were handed out" : "the portal restarted inside their download window";
            await audit.WriteAsync(Actor.System, RolloverAuditActions.KeysLost, $"rollover #{batch.RolloverId} batch {batch.BatchId}", AuditOutcomes.Failed,
                $"keys of {batch.DeviceCount} re-issued device certificate(s) lost: {why}", cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
