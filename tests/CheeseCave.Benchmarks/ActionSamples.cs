namespace CheeseCave.Benchmarks;

/// <summary>The wizard actions' timings, by action in the order first seen, and how each action's page shows it running.</summary>
internal sealed class ActionSamples
{
    private readonly Dictionary<string, List<double>> _byAction = [];
    private readonly List<string> _order = [];
    private readonly HashSet<string> _busy = [];
    private readonly HashSet<string> _progress = [];

    /// <summary>A change: its page shows a progress bar while it runs.</summary>
    public bool ShowsBusy(string action) => _busy.Contains(action);

    /// <summary>A long operation: the service reports progress lines, which the page shows as they come.</summary>
    public bool ReportsProgress(string action) => _progress.Contains(action);

    public void MarkBusy(string action) => _busy.Add(action);

    public void MarkProgress(string action) => _progress.Add(action);

    public IEnumerable<(string Action, double[] Ms)> All => _order.Select(a => (a, _byAction[a].Order().ToArray()));

    public void Add(string action, double ms)
    {
        if (!_byAction.TryGetValue(action, out var list))
        {
            _byAction[action] = list = [];
            _order.Add(action);
        }

        list.Add(ms);
    }
}
