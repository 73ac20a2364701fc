using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Setups.Expiry;

/// <summary>
/// Runs <see cref="ExpiryCheck"/> when the portal starts and then every <see cref="ExpiryWatchOptions.Interval"/>
/// (daily by default), timed by the <see cref="TimeProvider"/>. A run that fails is logged and shown on the overview;
/// the watch keeps going. With several portal instances, the one holding the cluster lease runs it (a lease for most of
/// an interval), so the check runs once per interval, not once per instance; each notice is also claimed in the
/// database, so none goes out twice even if two runs overlap.
/// </summary>
public sealed partial class ExpiryWatch(ExpiryCheck check, ExpiryWatchStatus status, Cluster.ClusterLeases leases, IOptions<ExpiryWatchOptions> options,
    TimeProvider time, ILogger<ExpiryWatch> logger)
    : BackgroundService
{
    public const string LeaseName = "expiry-check";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }

        // Let the host finish starting (migrations ran before, as an earlier hosted service) without holding it up.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            status.Started(time.GetUtcNow());
            ExpiryRunResult? result = null;
            string? error = null;
            var elsewhere = false;
            try
            {
                elsewhere = !await leases.TryAcquireAsync(LeaseName, settings.Interval * 0.9, stoppingToken).ConfigureAwait(false);
                result = elsewhere ? null : await check.RunAsync(stoppingToken).ConfigureAwait(false);
                if (result?.Problems.Count > 0)
                {
                    LogDeliveryProblems(logger, string.Join(" ", result.Problems));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A broken database or a bug must not stop the portal; the overview shows the error until the next run.
                error = ex.Message;
                LogRunFailed(logger, ex);
            }

            // The wait starts before the run is reported finished, so a clock moved right after that report counts.
            var next = time.GetUtcNow() + settings.Interval;
            var wait = Task.Delay(settings.Interval, time, stoppingToken);
            status.Finished(result, error, next, elsewhere);
            try
            {
                await wait.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expiry watch: some notices were not delivered and will be tried again at the next check: {Problems}")]
    private static partial void LogDeliveryProblems(ILogger logger, string problems);

    [LoggerMessage(Level = LogLevel.Error, Message = "Expiry watch: the check failed; it runs again at the next interval")]
    private static partial void LogRunFailed(ILogger logger, Exception exception);
}

/// <summary>The watch's last and next run, for the overview. In memory: a run happens at every start anyway.</summary>
public sealed class ExpiryWatchStatus
{
    private readonly Lock _gate = new();
    private TaskCompletionSource<ExpiryWatchSnapshot> _nextRun = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ExpiryWatchSnapshot _current = new(null, null, null, null, null, false, 0);

    public ExpiryWatchSnapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>Completes when the run after this call (or one in progress) finishes: tests wait on it instead of on time.</summary>
    public Task<ExpiryWatchSnapshot> NextRunFinishedAsync()
    {
        lock (_gate)
        {
            return _nextRun.Task;
        }
    }

    internal void Started(DateTimeOffset at)
    {
        lock (_gate)
        {
            _current = _current with { Running = true, StartedAt = at };
        }
    }

    internal void Finished(ExpiryRunResult? result, string? error, DateTimeOffset next, bool ranElsewhere = false)
    {
        TaskCompletionSource<ExpiryWatchSnapshot> finished;
        ExpiryWatchSnapshot snapshot;
        lock (_gate)
        {
            snapshot = _current = new ExpiryWatchSnapshot(_current.StartedAt, result?.At ?? _current.StartedAt, result, error, next, false, _current.Runs + 1, ranElsewhere);
            finished = _nextRun;
            _nextRun = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        finished.SetResult(snapshot);
    }
}

/// <summary>The watch at one moment: when the last run started and ended, what it did (or its error), and when the next starts.</summary>
/// <remarks><see cref="RanElsewhere"/>: another portal instance held the lease, so this one did not check this time.</remarks>
public sealed record ExpiryWatchSnapshot(DateTimeOffset? StartedAt, DateTimeOffset? LastRunAt, ExpiryRunResult? LastResult, string? LastError, DateTimeOffset? NextRunAt, bool Running, int Runs,
    bool RanElsewhere = false);
