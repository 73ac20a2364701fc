using CheeseCave.Portal.Setups.Operations;

namespace CheeseCave.Portal.Tests.Setups.Operations;

/// <summary>Waits for what <see cref="SetupOperations.Changed"/> reports about one setup's operation.</summary>
internal sealed class OperationProbe : IDisposable
{
    private readonly SetupOperations _operations;
    private readonly int _setupId;
    private readonly List<SetupOperationStatus> _seen = [];
    private readonly List<(Func<SetupOperationStatus, bool> Match, TaskCompletionSource<SetupOperationStatus> Done)> _waits = [];

    public OperationProbe(SetupOperations operations, int setupId)
    {
        (_operations, _setupId) = (operations, setupId);
        operations.Changed += OnChanged;
    }

    public IReadOnlyList<SetupOperationStatus> Seen
    {
        get
        {
            lock (_seen)
            {
                return [.. _seen];
            }
        }
    }

    public async Task<SetupOperationStatus> WaitForAsync(Func<SetupOperationStatus, bool> match)
    {
        var done = new TaskCompletionSource<SetupOperationStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_seen)
        {
            if (_seen.FirstOrDefault(match) is { } already)
            {
                return already;
            }

            _waits.Add((match, done));
        }

        return await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public Task<SetupOperationStatus> EndedAsync() => WaitForAsync(s => !s.IsRunning);

    private void OnChanged(SetupOperationStatus status)
    {
        if (status.SetupId != _setupId)
        {
            return;
        }

        lock (_seen)
        {
            _seen.Add(status);
            foreach (var wait in _waits.Where(w => w.Match(status)).ToList())
            {
                _waits.Remove(wait);
                wait.Done.TrySetResult(status);
            }
        }
    }

    public void Dispose() => _operations.Changed -= OnChanged;
}
