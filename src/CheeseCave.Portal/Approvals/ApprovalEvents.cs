namespace CheeseCave.Portal.Approvals;

/// <summary>
/// The singleton notifier every circuit listens to (eShop's OrderStatusNotificationService pattern): requests made,
/// approved, applied, rejected, expired or cancelled. Subscribers re-enter their circuit with InvokeAsync and must
/// dispose their subscription.
/// </summary>
public sealed partial class ApprovalEvents(ILogger<ApprovalEvents> logger)
{
    private readonly Lock _gate = new();
    private readonly List<Func<ApprovalChange, Task>> _handlers = [];

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
                SubscriberGone(logger, ex, change.RequestId);
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "An approval subscriber could not be notified of request {RequestId}.")]
    private static partial void SubscriberGone(ILogger logger, Exception exception, int requestId);
}
