using System.Threading.Channels;
using CheeseCave.Portal.Telemetry;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Automation.Grants;

/// <summary>
/// Group commit for CSR signing. Each signed certificate is handed over with its audit entry; one writer takes
/// whatever is waiting, and in one transaction takes from each grant as many as it has left while active (one
/// conditional update per grant, so the count never passes the maximum), inserts the accepted certificates and audit
/// entries, and commits.
/// Only then are the waiting requests told, so no certificate is ever sent that the inventory does not hold, and
/// concurrent requests can never take more than the grant's count. One fsync covers the whole batch.
/// </summary>
public sealed partial class IssuanceWriter(IDbContextFactory<PortalDbContext> contexts, TimeProvider time, ILogger<IssuanceWriter> logger) : BackgroundService
{
    /// <summary>At most this many certificates per transaction, so one batch never holds the write lock for long.</summary>
    public const int MaxBatch = 256;

    private readonly Channel<IssuanceWork> _queue = Channel.CreateUnbounded<IssuanceWork>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues the certificate and waits until it is committed (true) or refused by its grant (false).</summary>
    public async Task<bool> RecordAsync(SetupDevice device, AuditEntry audit, int grantId)
    {
        var work = new IssuanceWork(device, audit, grantId, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(work))
        {
            throw new InvalidOperationException("The portal is shutting down; nothing was recorded.");
        }

        // Not cancellable on purpose: once queued, the outcome must be awaited, or a committed certificate would be lost to its caller.
        return await work.Done.Task.ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await EnableWriteAheadLogAsync(stoppingToken).ConfigureAwait(false);
        var batch = new List<IssuanceWork>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var work))
                {
                    batch.Add(work);
                }

                await CommitAsync(batch).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var left))
            {
                left.Done.TrySetException(new InvalidOperationException("The portal stopped before the certificate was recorded; it was not issued."));
            }
        }
    }

    private async Task CommitAsync(List<IssuanceWork> batch)
    {
        var accepted = new HashSet<IssuanceWork>(ReferenceEqualityComparer.Instance);
        try
        {
            var now = time.GetUtcNow();
            await using var db = await contexts.CreateDbContextAsync().ConfigureAwait(false);
            // What is read below only sizes the take; the conditional update keeps the count within the maximum even
            // if another writer (a revocation) got in between.
            await using var transaction = await db.Database.BeginTransactionAsync().ConfigureAwait(false);
            foreach (var group in batch.GroupBy(w => w.GrantId))
            {
                var grant = await db.IssuanceGrants.AsNoTracking().Where(g => g.Id == group.Key)
                    .Select(g => new { g.MaxCount, g.IssuedCount, g.RevokedAt, g.ExpiresAt }).FirstOrDefaultAsync().ConfigureAwait(false);
                var left = grant is null || grant.RevokedAt is not null || grant.ExpiresAt <= now ? 0 : Math.Max(0, grant.MaxCount - grant.IssuedCount);
                var taken = group.Take(left).ToList();
                if (taken.Count == 0)
                {
                    continue;
                }

                // Conditional all the same: the count can never pass the maximum, whatever else writes.
                var counted = await db.IssuanceGrants.Where(g => g.Id == group.Key && g.IssuedCount + taken.Count <= g.MaxCount)
                    .ExecuteUpdateAsync(s => s.SetProperty(g => g.IssuedCount, g => g.IssuedCount + taken.Count)).ConfigureAwait(false);
                if (counted != 1)
                {
                    continue;
                }

                foreach (var work in taken)
                {
                    db.SetupDevices.Add(work.Device);
                    db.AuditEntries.Add(work.Audit);
                    accepted.Add(work);
                }
            }

            await db.SaveChangesAsync().ConfigureAwait(false);
            await transaction.CommitAsync().ConfigureAwait(false);
            foreach (var source in accepted.GroupBy(w => w.Device.Source))
            {
                PortalMetrics.CertificatesIssued("device", source.Key.ToString(), source.Count());
            }
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
        {
            LogRecordingFailed(logger, ex, batch.Count);
            foreach (var work in batch)
            {
                work.Done.TrySetException(new InvalidOperationException("The certificate could not be recorded, so it was not issued.", ex));
            }

            return;
        }

        foreach (var work in batch)
        {
            work.Done.TrySetResult(accepted.Contains(work));
        }
    }

    /// <summary>
    /// Readers (token checks, pages) then never wait for this writer, and the writer appends instead of rewriting
    /// pages. The setting is stored in the database file, so it holds for every connection from now on.
    /// </summary>
    private async Task EnableWriteAheadLogAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        if (db.Database.IsSqlite()) // PostgreSQL readers never wait for writers anyway
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording {Count} signed certificates failed; none of them was issued.")]
    private static partial void LogRecordingFailed(ILogger logger, Exception exception, int count);

    private sealed record IssuanceWork(SetupDevice Device, AuditEntry Audit, int GrantId, TaskCompletionSource<bool> Done);
}
