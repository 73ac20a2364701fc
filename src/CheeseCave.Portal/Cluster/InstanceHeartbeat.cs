using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Cluster;

/// <summary>
/// Work an instance left behind when it died (a long operation, an approval being applied): each sweep gets the
/// instances alive right now and marks what belongs to any other as interrupted, atomically, so two instances
/// sweeping at once report it once.
/// </summary>
public interface IClusterSweep
{
    Task SweepAsync(IReadOnlyCollection<string> aliveInstances, CancellationToken cancellationToken);
}

/// <summary>
/// Records this instance in the database at start, beats every <see cref="ClusterOptions.HeartbeatInterval"/>, and
/// runs the sweeps after each beat; a clean stop marks the instance stopped, so the others need not wait for its
/// heartbeat to go stale. With one instance configured, every other row is an earlier run of this portal: its
/// leftovers are swept at start, before the first request.
/// </summary>
public sealed partial class InstanceHeartbeat(
    IDbContextFactory<PortalDbContext> contexts,
    PortalInstance instance,
    IEnumerable<IClusterSweep> sweeps,
    ClusterMembership membership,
    IOptions<CheeseCaveOptions> options,
    TimeProvider time,
    ILogger<InstanceHeartbeat> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private int _disposed;

    private ClusterOptions Settings => options.Value.Cluster;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            db.PortalInstances.Add(new PortalInstanceRecord { Id = instance.Id, Machine = instance.Machine, StartedAt = now, HeartbeatAt = now });
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }

        await SweepAsync(cancellationToken).ConfigureAwait(false);
        _loop = Task.Run(() => BeatAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        try
        {
            var now = time.GetUtcNow();
            await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await db.PortalInstances.Where(i => i.Id == instance.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.StoppedAt, now).SetProperty(i => i.HeartbeatAt, now), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or DbUpdateException or InvalidOperationException or OperationCanceledException)
        {
            // Shutting down with the database gone: the heartbeat goes stale and the others sweep anyway.
            LogStopNotRecorded(logger, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task BeatAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Settings.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var now = time.GetUtcNow();
                    await using (var db = await contexts.CreateDbContextAsync(stoppingToken).ConfigureAwait(false))
                    {
                        await db.PortalInstances.Where(i => i.Id == instance.Id)
                            .ExecuteUpdateAsync(s => s.SetProperty(i => i.HeartbeatAt, now), stoppingToken).ConfigureAwait(false);

                        // Housekeeping: old instance rows and finished rate-limit windows.
                        var forgotten = now - TimeSpan.FromDays(1);
                        await db.PortalInstances.Where(i => i.HeartbeatAt < forgotten).ExecuteDeleteAsync(stoppingToken).ConfigureAwait(false);
                        await db.RateLimitCounters.Where(c => c.WindowEndsAt < now).ExecuteDeleteAsync(stoppingToken).ConfigureAwait(false);
                    }

                    await SweepAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A database hiccup must not stop the beat; a long one makes this instance look dead, as it should.
                    LogBeatFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var alive = await membership.AliveAsync(cancellationToken).ConfigureAwait(false);
        foreach (var sweep in sweeps)
        {
            await sweep.SweepAsync(alive, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster heartbeat failed; trying again at the next beat")]
    private static partial void LogBeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record this instance's stop; the others will notice its silence")]
    private static partial void LogStopNotRecorded(ILogger logger, Exception exception);
}
