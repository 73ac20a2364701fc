using System.Globalization;
using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Cluster;
using CheeseCave.Portal.Telemetry;

namespace CheeseCave.Portal.Setups.Operations;

/// <summary>
/// Runs the wizard's long actions (create a DPS or a hub, one-click proof of possession, a device batch) on the thread
/// pool, apart from the circuit that started them: closing or reloading the tab loses nothing, and every page of the
/// setup sees the progress (eShop's singleton notifier; pages subscribe through <c>SetupOperationWatch</c>). The work
/// itself is a slice handler's call, made in a fresh DI scope with the caller captured at start, so
/// its authorization, audit and persistence are unchanged. Only application shutdown cancels it. One operation of a
/// kind per setup at a time, across every portal instance: the claim, the progress and the outcome are stored
/// (<see cref="SetupOperationLedger"/>) and announced on the cluster bus, so a page served by another instance shows
/// them live; if the instance running one dies, the others report it as interrupted (<see cref="IClusterSweep"/>).
/// The outcome is kept for <see cref="RetainFor"/> after it ends.
/// </summary>
public sealed partial class SetupOperations : IClusterSweep, IAsyncDisposable
{
    private const string Topic = "setup-operation";

    private readonly Lock _gate = new();
    private readonly Dictionary<(int SetupId, SetupOperationKind Kind), Entry> _entries = [];
    private readonly IServiceScopeFactory _scopes;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly SetupOperationLedger _ledger;
    private readonly ClusterMembership _membership;
    private readonly IClusterBus _bus;
    private readonly TimeProvider _time;
    private readonly ILogger<SetupOperations> _logger;
    private readonly IDisposable _remote;

    public SetupOperations(IServiceScopeFactory scopes, IHostApplicationLifetime lifetime, SetupOperationLedger ledger, ClusterMembership membership,
        IClusterBus bus, TimeProvider time, ILogger<SetupOperations> logger)
    {
        (_scopes, _lifetime, _ledger, _membership, _bus, _time, _logger) = (scopes, lifetime, ledger, membership, bus, time, logger);
        ArgumentNullException.ThrowIfNull(bus);
        _remote = bus.Subscribe(Topic, OnRemoteChangeAsync);
        bus.Reconnected += () => _ = Task.Run(() => RefreshAsync(CancellationToken.None));
    }

    /// <summary>How long an ended operation's outcome stays visible (and its value can be taken).</summary>
    public static TimeSpan RetainFor { get; } = TimeSpan.FromMinutes(10);

    /// <summary>Raised on start, on every progress line and at the end; on a thread-pool thread, never inside a lock.</summary>
    public event Action<SetupOperationStatus>? Changed;

    /// <summary>
    /// Starts <paramref name="work"/> for (<paramref name="setupId"/>, <paramref name="kind"/>) unless one is running
    /// here or on another instance. No role check here: the handler's call inside re-checks the caller's role and
    /// audits a refusal, and its outcome comes back through <see cref="Changed"/> like any other.
    /// </summary>
    public async Task<SetupOperationStart> StartAsync<THandler, T>(ClaimsPrincipal caller, int setupId, SetupOperationKind kind, string subject,
        Func<THandler, IProgress<string>, CancellationToken, Task<PortalResult<T>>> work, CancellationToken cancellationToken = default)
        where THandler : notnull
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(work);
        var now = Truncate(_time.GetUtcNow());
        Task stored;
        lock (_gate)
        {
            Prune(now);
            if (_entries.TryGetValue((setupId, kind), out var running) && running.Status.IsRunning)
            {
                return Refuse(running.Status, now);
            }

            stored = running?.Writes ?? Task.CompletedTask;
        }

        await stored.ConfigureAwait(false); // the end of the last one is in the database before the next claim reads it

        var startedById = caller.FindFirstValue(ClaimTypes.NameIdentifier);
        var status = new SetupOperationStatus(setupId, kind, subject, NameOf(caller), now, "Starting", null, null, null);
        var alive = await _membership.AliveAsync(cancellationToken).ConfigureAwait(false);
        var (claimed, elsewhere) = await _ledger.TryClaimAsync(status, startedById, alive, cancellationToken).ConfigureAwait(false);
        Entry entry;
        lock (_gate)
        {
            if (!claimed || (_entries.TryGetValue((setupId, kind), out var running) && running.Status.IsRunning && running.Run is not null))
            {
                // Another instance (or a second click here, between the check and the claim) got there first.
                var other = elsewhere ?? _entries.GetValueOrDefault((setupId, kind))?.Status ?? status;
                return Refuse(other, now);
            }

            entry = new Entry(status, startedById);
            _entries[(setupId, kind)] = entry;
        }

        Raise(entry.Status);
        Persist(entry, entry.Status);

        // Detached from the caller's context on purpose: the circuit may be gone long before this finishes.
        entry.Run = Task.Run(() => RunAsync(entry, caller, work), CancellationToken.None);
        return new SetupOperationStart(entry.Status, null);
    }

    /// <summary>The running operation, or the last one if it ended within <see cref="RetainFor"/>; null otherwise.</summary>
    public SetupOperationStatus? Get(int setupId, SetupOperationKind kind)
    {
        lock (_gate)
        {
            Prune(_time.GetUtcNow());
            return _entries.TryGetValue((setupId, kind), out var entry) ? entry.Status : null;
        }
    }

    /// <summary>
    /// The success value of the last operation, once, and only for the user who started it (a device batch's PFX
    /// password is shown once, to its issuer: in the tab that started it, or after a reload if that tab was closed).
    /// </summary>
    public T? TakeValue<T>(int setupId, SetupOperationKind kind, ClaimsPrincipal viewer)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(viewer);
        var viewerId = viewer.FindFirstValue(ClaimTypes.NameIdentifier);
        lock (_gate)
        {
            Prune(_time.GetUtcNow());
            if (!_entries.TryGetValue((setupId, kind), out var entry) || entry.Status.IsRunning || viewerId is null
                || !string.Equals(entry.StartedById, viewerId, StringComparison.Ordinal) || entry.Value is not T value)
            {
                return null;
            }

            entry.Value = null;
            return value;
        }
    }

    /// <summary>Completes when every operation has ended (they end soon after shutdown starts: it cancels them).</summary>
    public Task WhenIdleAsync()
    {
        lock (_gate)
        {
            return Task.WhenAll(_entries.Values.SelectMany(e => new[] { e.Run, e.Writes }).OfType<Task>());
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The container disposes singletons after ApplicationStopping has cancelled the work: wait for it so no
        // operation writes to a database or key store that is being torn down.
        await WhenIdleAsync().ConfigureAwait(false);
        _remote.Dispose();
    }

    /// <summary>After each heartbeat: ends what dead instances were running, and re-reads the others' operations.</summary>
    public async Task SweepAsync(IReadOnlyCollection<string> aliveInstances, CancellationToken cancellationToken)
    {
        var ended = await _ledger.EndOrphansAsync(aliveInstances, Truncate(_time.GetUtcNow()), Interrupted, cancellationToken).ConfigureAwait(false);
        foreach (var status in ended)
        {
            await PublishAsync(status).ConfigureAwait(false);
        }

        await RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    internal static PortalError Interrupted(SetupOperationKind kind) => new(
        $"{SetupOperationText.TitleOf(kind)} was interrupted: the portal instance running it stopped.",
        "Open this step again: it shows what Azure has now; start it again if it is missing.");

    private static string NameOf(ClaimsPrincipal caller) =>
        caller.Identity?.Name ?? caller.FindFirstValue("name") ?? caller.FindFirstValue("preferred_username") ?? "someone";

    private async Task RunAsync<THandler, T>(Entry entry, ClaimsPrincipal caller,
        Func<THandler, IProgress<string>, CancellationToken, Task<PortalResult<T>>> work)
        where THandler : notnull
    {
        var stopping = _lifetime.ApplicationStopping;
        try
        {
            // A scope of our own: the circuit's scope (and its handlers) may be disposed mid-way.
            var scope = Security.CallerScopes.CreateFor(_scopes, caller);
            await using (scope.ConfigureAwait(false))
            {
                var handler = scope.ServiceProvider.GetRequiredService<THandler>();
                var result = await work(handler, new Reporter(this, entry), stopping).ConfigureAwait(false);
                End(entry, result.Error, result.Pending, result.Value);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            LogCancelled(_logger, entry.Status.Kind, entry.Status.SetupId);
            End(entry, new PortalError(
                $"{entry.Status.Title} was stopped because the portal shut down.",
                "Open this step again once the portal is back: it shows what Azure has now; start it again if it is missing."), null, null);
        }
        catch (Exception ex)
        {
            // Nobody awaits this task: a surprise must still end the operation and reach the pages.
            LogFailed(_logger, ex, entry.Status.Kind, entry.Status.SetupId);
            End(entry, new PortalError(
                $"{entry.Status.Title} failed unexpectedly ({ex.GetType().Name}).",
                "Open this step again to see what was done, then try again; the portal log has the details."), null, null);
        }
    }

    private void Report(Entry entry, string text)
    {
        SetupOperationStatus status;
        lock (_gate)
        {
            if (!entry.Status.IsRunning)
            {
                return;
            }

            status = entry.Status = entry.Status with { Progress = text };
        }

        Raise(status);
        Persist(entry, status);
    }

    private void End(Entry entry, PortalError? error, ApprovalTicket? pending, object? value)
    {
        SetupOperationStatus status;
        lock (_gate)
        {
            entry.Value = value;
            status = entry.Status = entry.Status with { EndedAt = Truncate(_time.GetUtcNow()), Error = error, Pending = pending };
        }

        PortalMetrics.OperationEnded(status.Kind.ToString(), error is not null ? "failed" : pending is not null ? "waiting" : "succeeded", status.EndedAt!.Value - status.StartedAt);

        Raise(status);
        Persist(entry, status);
    }

    /// <summary>
    /// Stores the status and tells the other instances, in order per operation (a chain of writes, so a late progress
    /// line never overwrites the end). A failed write is logged: this instance's pages already know, the others see
    /// the row at their next heartbeat.
    /// </summary>
    private void Persist(Entry entry, SetupOperationStatus status)
    {
        lock (_gate)
        {
            entry.Writes = entry.Writes.ContinueWith(async _ =>
            {
                try
                {
                    await _ledger.SaveAsync(status, CancellationToken.None).ConfigureAwait(false);
                    await PublishAsync(status).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException or Microsoft.EntityFrameworkCore.DbUpdateException or InvalidOperationException or TimeoutException)
                {
                    LogNotStored(_logger, ex, status.Kind, status.SetupId);
                }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private async Task PublishAsync(SetupOperationStatus status)
    {
        try
        {
            await _bus.PublishAsync(Topic, string.Create(CultureInfo.InvariantCulture, $"{status.SetupId}|{status.Kind}")).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            LogNotStored(_logger, ex, status.Kind, status.SetupId);
        }
    }

    /// <summary>Another instance changed an operation: read it and show it here.</summary>
    private async Task OnRemoteChangeAsync(string payload)
    {
        var parts = payload.Split('|');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var setupId) || !Enum.TryParse<SetupOperationKind>(parts[1], out var kind))
        {
            return;
        }

        if (await _ledger.FindAsync(setupId, kind, CancellationToken.None).ConfigureAwait(false) is { } found)
        {
            Mirror(found.Status);
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var status in await _ledger.OthersAsync(_time.GetUtcNow() - RetainFor, cancellationToken).ConfigureAwait(false))
            {
                Mirror(status);
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            LogNotStored(_logger, ex, null, null);
        }
    }

    /// <summary>Takes another instance's status unless this instance runs that operation itself; raises it if it is news.</summary>
    private void Mirror(SetupOperationStatus status)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue((status.SetupId, status.Kind), out var known)
                && ((known.Run is not null && known.Status.StartedAt >= status.StartedAt) || known.Status == status))
            {
                return;
            }

            _entries[(status.SetupId, status.Kind)] = new Entry(status, null);
        }

        Raise(status);
    }

    private static SetupOperationStart Refuse(SetupOperationStatus status, DateTimeOffset now) => new(status, new PortalError(
        $"{SetupOperationText.AlreadyRunning(status.Kind)} for this setup ({status.StartedByText(now)}).",
        "Wait for it to finish: this page shows its progress and updates when it is done."));

    /// <summary>Milliseconds: what every database keeps exactly, so a stored start time still names its claim.</summary>
    private static DateTimeOffset Truncate(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private void Raise(SetupOperationStatus status)
    {
        if (Changed is not { } handlers)
        {
            return;
        }

        // One by one: a subscriber that throws (a page torn down mid-way) must not stop the others or the operation.
        foreach (var handler in handlers.GetInvocationList().Cast<Action<SetupOperationStatus>>())
        {
            try
            {
                handler(status);
            }
#pragma warning disable CA1031 // any subscriber failure is logged and ignored, by design
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogSubscriberFailed(_logger, ex, status.Kind, status.SetupId);
            }
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var key in _entries.Where(e => e.Value.Status.EndedAt is { } ended && now - ended > RetainFor).Select(e => e.Key).ToList())
        {
            _entries.Remove(key);
        }
    }

    private sealed class Entry(SetupOperationStatus status, string? startedById)
    {
        public SetupOperationStatus Status { get; set; } = status;

        public string? StartedById { get; } = startedById;

        public object? Value { get; set; }

        /// <summary>The work; null for an operation another instance runs.</summary>
        public Task? Run { get; set; }

        /// <summary>The chain of database writes for this operation.</summary>
        public Task Writes { get; set; } = Task.CompletedTask;
    }

    /// <summary>Reports straight to the operation (Progress&lt;T&gt; would post to the pool and could reorder lines).</summary>
    private sealed class Reporter(SetupOperations owner, Entry entry) : IProgress<string>
    {
        public void Report(string value) => owner.Report(entry, value);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Setup operation {Kind} for setup {SetupId} was cancelled by shutdown")]
    private static partial void LogCancelled(ILogger logger, SetupOperationKind kind, int setupId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Setup operation {Kind} for setup {SetupId} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, SetupOperationKind kind, int setupId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Setup operation {Kind} for setup {SetupId}: the shared record or the other instances could not be updated")]
    private static partial void LogNotStored(ILogger logger, Exception exception, SetupOperationKind? kind, int? setupId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A subscriber to setup operation {Kind} for setup {SetupId} threw; the operation goes on")]
    private static partial void LogSubscriberFailed(ILogger logger, Exception exception, SetupOperationKind kind, int setupId);
}
