namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>
/// The rollover steps running in this process, by setup. A step marked running in the database but absent here was
/// cut off by a restart: that is how the page tells "running" from "interrupted".
/// </summary>
public sealed class RolloverRuns
{
    private readonly Lock _gate = new();
    private readonly HashSet<int> _running = [];

    public bool TryEnter(int setupId)
    {
        lock (_gate)
        {
            return _running.Add(setupId);
        }
    }

    public void Exit(int setupId)
    {
        lock (_gate)
        {
            _running.Remove(setupId);
        }
    }

    public bool IsRunning(int setupId)
    {
        lock (_gate)
        {
            return _running.Contains(setupId);
        }
    }
}
