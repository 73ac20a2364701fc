using System.Globalization;
using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Telemetry;

namespace CheeseCave.Portal.Setups.Operations;

/// <summary>The wizard's long actions that run apart from the browser circuit.</summary>
public enum SetupOperationKind
{
    CreateDps,
    CreateHub,
    VerifyCa,
    IssueDevices,
    RolloverReissue,
}

/// <summary>
/// What one long operation is doing, or how it ended. <see cref="Subject"/> names what it works on (the DPS or hub
/// name); the success value is not here: only the user who started it can take it (<see cref="SetupOperations.TakeValue{T}"/>),
/// because a device batch carries a PFX password that is shown once.
/// </summary>
public sealed record SetupOperationStatus(
    int SetupId,
    SetupOperationKind Kind,
    string Subject,
    string StartedBy,
    DateTimeOffset StartedAt,
    string? Progress,
    DateTimeOffset? EndedAt,
    PortalError? Error,
    ApprovalTicket? Pending)
{
    public bool IsRunning => EndedAt is null;

    public bool Succeeded => EndedAt is not null && Error is null && Pending is null;

    public string Title => SetupOperations.TitleOf(Kind);

    /// <summary>"started by ada 20 s ago".</summary>
    public string StartedByText(DateTimeOffset now) => $"started by {StartedBy} {SetupOperations.Ago(now - StartedAt)}";
}

/// <summary>The answer to a start: the running operation, or why it was refused.</summary>
public sealed record SetupOperationStart(SetupOperationStatus? Status, PortalError? Refused)
{
    public bool Started => Refused is null;
}

/// <summary>
/// Runs the wizard's long actions (create a DPS or a hub, one-click proof of possession, a device batch) on the thread
/// pool, apart from the circuit that started them: closing or reloading the tab loses nothing, and every page of the
/// setup sees the progress (eShop's singleton notifier; pages subscribe through <c>SetupOperationWatch</c>). The work
/// itself is a slice handler's call, made in a fresh DI scope with the caller captured at start, so
/// its authorization, audit and persistence are unchanged. Only application shutdown cancels it. One operation of a
/// kind per setup at a time; the outcome is kept for <see cref="RetainFor"/> after it ends.
/// </summary>
public sealed partial class SetupOperations(
    IServiceScopeFactory scopes,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<SetupOperations> logger) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(int SetupId, SetupOperationKind Kind), Entry> _entries = [];

    /// <summary>How long an ended operation's outcome stays visible (and its value can be taken).</summary>
    public static TimeSpan RetainFor { get; } = TimeSpan.FromMinutes(10);

    /// <summary>Raised on start, on every progress line and at the end; on a thread-pool thread, never inside a lock.</summary>
    public event Action<SetupOperationStatus>? Changed;

    /// <summary>
    /// Starts <paramref name="work"/> for (<paramref name="setupId"/>, <paramref name="kind"/>) unless one is running.
    /// No check here: the handler's call inside re-checks the caller's role and audits a refusal,
    /// and its outcome comes back through <see cref="Changed"/> like any other.
    /// </summary>
    public SetupOperationStart Start<THandler, T>(ClaimsPrincipal caller, int setupId, SetupOperationKind kind, string subject,
        Func<THandler, IProgress<string>, CancellationToken, Task<PortalResult<T>>> work)
        where THandler : notnull
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(work);
        var now = time.GetUtcNow();
        Entry entry;
        lock (_gate)
        {
            Prune(now);
            if (_entries.TryGetValue((setupId, kind), out var running) && running.Status.IsRunning)
            {
                var status = running.Status;
                return new SetupOperationStart(status, new PortalError(
                    $"{AlreadyRunning(kind)} for this setup ({status.StartedByText(now)}).",
                    "Wait for it to finish: this page shows its progress and updates when it is done."));
            }

            entry = new Entry(
                new SetupOperationStatus(setupId, kind, subject, NameOf(caller), now, "Starting", null, null, null),
                caller.FindFirstValue(ClaimTypes.NameIdentifier));
            _entries[(setupId, kind)] = entry;
        }

        Raise(entry.Status);

        // Detached from the caller's context on purpose: the circuit may be gone long before this finishes.
        entry.Run = Task.Run(() => RunAsync(entry, caller, work), CancellationToken.None);
        return new SetupOperationStart(entry.Status, null);
    }

    /// <summary>The running operation, or the last one if it ended within <see cref="RetainFor"/>; null otherwise.</summary>
    public SetupOperationStatus? Get(int setupId, SetupOperationKind kind)
    {
        lock (_gate)
        {
            Prune(time.GetUtcNow());
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
            Prune(time.GetUtcNow());
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
            return Task.WhenAll(_entries.Values.Select(e => e.Run).OfType<Task>());
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The container disposes singletons after ApplicationStopping has cancelled the work: wait for it so no
        // operation writes to a database or key store that is being torn down.
        await WhenIdleAsync().ConfigureAwait(false);
    }

    internal static string TitleOf(SetupOperationKind kind) => kind switch
    {
        SetupOperationKind.CreateDps => "Creating the DPS",
        SetupOperationKind.CreateHub => "Creating the hub",
        SetupOperationKind.VerifyCa => "Proving possession",
        _ => "Issuing device certificates",
    };

    private static string AlreadyRunning(SetupOperationKind kind) => kind switch
    {
        SetupOperationKind.CreateDps => "A DPS is already being created",
        SetupOperationKind.CreateHub => "An IoT hub is already being created",
        SetupOperationKind.VerifyCa => "Proof of possession is already running",
        _ => "Device certificates are already being issued",
    };

    internal static string Ago(TimeSpan elapsed) =>
        elapsed < TimeSpan.FromMinutes(2) ? $"{Math.Max(0, (int)elapsed.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s ago"
        : elapsed < TimeSpan.FromHours(2) ? $"{((int)elapsed.TotalMinutes).ToString(CultureInfo.InvariantCulture)} min ago"
        : $"{((int)elapsed.TotalHours).ToString(CultureInfo.InvariantCulture)} h ago";

    private static string NameOf(ClaimsPrincipal caller) =>
        caller.Identity?.Name ?? caller.FindFirstValue("name") ?? caller.FindFirstValue("preferred_username") ?? "someone";

    private async Task RunAsync<THandler, T>(Entry entry, ClaimsPrincipal caller,
        Func<THandler, IProgress<string>, CancellationToken, Task<PortalResult<T>>> work)
        where THandler : notnull
    {
        var stopping = lifetime.ApplicationStopping;
        try
        {
            // A scope of our own: the circuit's scope (and its handlers) may be disposed mid-way.
            var scope = Security.CallerScopes.CreateFor(scopes, caller);
            await using (scope.ConfigureAwait(false))
            {
                var handler = scope.ServiceProvider.GetRequiredService<THandler>();
                var result = await work(handler, new Reporter(this, entry), stopping).ConfigureAwait(false);
                End(entry, result.Error, result.Pending, result.Value);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            LogCancelled(logger, entry.Status.Kind, entry.Status.SetupId);
            End(entry, new PortalError(
                $"{entry.Status.Title} was stopped because the portal shut down.",
                "Open this step again once the portal is back: it shows what Azure has now; start it again if it is missing."), null, null);
        }
        catch (Exception ex)
        {
            // Nobody awaits this task: a surprise must still end the operation and reach the pages.
            LogFailed(logger, ex, entry.Status.Kind, entry.Status.SetupId);
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
    }

    private void End(Entry entry, PortalError? error, ApprovalTicket? pending, object? value)
    {
        SetupOperationStatus status;
        lock (_gate)
        {
            entry.Value = value;
            status = entry.Status = entry.Status with { EndedAt = time.GetUtcNow(), Error = error, Pending = pending };
        }

        PortalMetrics.OperationEnded(status.Kind.ToString(), error is not null ? "failed" : pending is not null ? "waiting" : "succeeded", status.EndedAt!.Value - status.StartedAt);

        Raise(status);
    }

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
                LogSubscriberFailed(logger, ex, status.Kind, status.SetupId);
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

        public Task? Run { get; set; }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "A subscriber to setup operation {Kind} for setup {SetupId} threw; the operation goes on")]
    private static partial void LogSubscriberFailed(ILogger logger, Exception exception, SetupOperationKind kind, int setupId);
}
