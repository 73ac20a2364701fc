namespace CheeseCave.Portal.Components.Wizards.Setups;

/// <summary>
/// The one action pattern of the wizard's steps: while an action runs the step is busy and shows a progress line;
/// when it fails it shows what went wrong and what to do, and "Try again" repeats the last action. Steps render it
/// with <see cref="StepActionStatus"/>; long actions that run apart from the circuit add <c>SetupOperationWatch</c>.
/// </summary>
public sealed class StepAction(Action changed)
{
    private Func<Task>? _last;

    public bool IsBusy { get; private set; }

    /// <summary>The progress line while busy ("Linking the hub: Accepted").</summary>
    public string Status { get; private set; } = "";

    public PortalError? Error { get; private set; }

    /// <summary>
    /// Runs <paramref name="action"/> as the step's current action, reporting its progress under <paramref name="start"/>.
    /// True when it succeeded.
    /// </summary>
    public async Task<bool> RunAsync(string start, Func<IProgress<string>, Task<PortalError?>> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        _last = () => RunAsync(start, action);
        IsBusy = true;
        Error = null;
        Status = start;
        var progress = new Progress<string>(text =>
        {
            Status = $"{start}: {text}";
            changed();
        });
        try
        {
            Error = await action(progress);
        }
        finally
        {
            IsBusy = false;
        }

        return Error is null;
    }

    /// <summary>Shows an error (or clears it with null); <paramref name="retry"/> is what "Try again" does.</summary>
    public void Show(PortalError? error, Func<Task>? retry = null)
    {
        Error = error;
        if (retry is not null)
        {
            _last = retry;
        }
    }

    /// <summary>Remembers what "Try again" repeats, for an action that reports through other means (a long operation).</summary>
    public void Remember(Func<Task> retry) => _last = retry;

    public Task RetryAsync() => _last?.Invoke() ?? Task.CompletedTask;
}
