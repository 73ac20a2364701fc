using System.Text.Json;
using CheeseCave.Portal.Cluster;

namespace CheeseCave.Portal.Approvals;

/// <summary>
/// The singleton notifier every circuit listens to (eShop's OrderStatusNotificationService pattern): requests made,
/// approved, applied, rejected, expired or cancelled. Subscribers re-enter their circuit with InvokeAsync and must
/// dispose their subscription. A change made on another portal instance arrives through the cluster bus and is
/// raised here the same way, so an approval page shows it live whichever instance serves it.
/// </summary>
public sealed partial class ApprovalEvents : IDisposable
{
    private const string Topic = "approval";

    private readonly Lock _gate = new();
    private readonly List<Func<ApprovalChange, Task>> _handlers = [];
    private readonly IClusterBus _bus;
    private readonly ILogger<ApprovalEvents> _logger;
    private readonly IDisposable _remote;

    public ApprovalEvents(IClusterBus bus, ILogger<ApprovalEvents> logger)
    {
        _bus = bus;
        _logger = logger;
        _remote = bus.Subscribe(Topic, payload => RaiseAsync(JsonSerializer.Deserialize<ApprovalChange>(payload)!));
    }

    public IDisposable Subscribe(Func<ApprovalChange, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_gate)
        {
            _handlers.Add(handler);
        }

        return new Subscription(this, handler);
    }

    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _handlers.Count;
            }
        }
    }

    public async Task PublishAsync(ApprovalChange change)
    {
        await RaiseAsync(change).ConfigureAwait(false);
        try
        {
            await _bus.PublishAsync(Topic, JsonSerializer.Serialize(change)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            // The change is in the database; pages on other instances see it when they next load.
            BusUnavailable(_logger, ex, change.RequestId);
        }
    }

    public void Dispose() => _remote.Dispose();

    private async Task RaiseAsync(ApprovalChange change)
    {
        Func<ApprovalChange, Task>[] handlers;
        lock (_gate)
        {
            handlers = [.. _handlers];
        }

        foreach (var handler in handlers)
        {
            try
            {
                await handler(change).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or TaskCanceledException)
            {
                // A circuit that went away between the snapshot and the call: it no longer needs to know.
                SubscriberGone(_logger, ex, change.RequestId);
            }
        }
    }

    private void Unsubscribe(Func<ApprovalChange, Task> handler)
    {
        lock (_gate)
        {
            _handlers.Remove(handler);
        }
    }

    private sealed class Subscription(ApprovalEvents owner, Func<ApprovalChange, Task> handler) : IDisposable
    {
        public void Dispose() => owner.Unsubscribe(handler);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The other portal instances could not be told of approval request {RequestId}; their pages show it at the next load.")]
    private static partial void BusUnavailable(ILogger logger, Exception exception, int requestId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "An approval subscriber could not be notified of request {RequestId}.")]
    private static partial void SubscriberGone(ILogger logger, Exception exception, int requestId);
}
