namespace CheeseCave.Portal.Cluster;

/// <summary>
/// Small notices between the portal instances that share one database ("approval 12 changed", "the device batch of
/// setup 3 moved on"). The database stays the truth: a notice only tells the other instances to look again, so one
/// lost while an instance reconnects costs freshness, never correctness (<see cref="Reconnected"/> asks to re-read).
/// </summary>
public interface IClusterBus
{
    /// <summary>Tells the other instances; this instance's own subscribers are not called (it knows already).</summary>
    Task PublishAsync(string topic, string payload, CancellationToken cancellationToken = default);

    /// <summary>Calls <paramref name="handler"/> with the payload of every notice on <paramref name="topic"/> from another instance.</summary>
    IDisposable Subscribe(string topic, Func<string, Task> handler);

    /// <summary>Raised after the bus was cut off and is listening again: notices may have been missed.</summary>
    event Action? Reconnected;
}

/// <summary>One instance (SQLite, the default): nobody else to tell.</summary>
public sealed class LocalClusterBus : IClusterBus
{
    public event Action? Reconnected
    {
        add { }
        remove { }
    }

    public Task PublishAsync(string topic, string payload, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public IDisposable Subscribe(string topic, Func<string, Task> handler) => NoSubscription.Instance;

    private sealed class NoSubscription : IDisposable
    {
        public static readonly NoSubscription Instance = new();

        public void Dispose()
        {
        }
    }
}
