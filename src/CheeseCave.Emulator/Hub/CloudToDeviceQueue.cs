using System.Collections.Concurrent;

namespace CheeseCave.Emulator.Hub;

/// <summary>A cloud-to-device message waiting for its device.</summary>
internal sealed record CloudToDeviceMessage(string MessageId, byte[] Body, IReadOnlyDictionary<string, string> Properties, string? CorrelationId, DateTimeOffset EnqueuedTime);

/// <summary>
/// Cloud-to-device messages: delivered at once to a device subscribed to devices/{id}/messages/devicebound/#, else
/// queued (in memory, at most <see cref="MaxQueuedPerDevice"/> per device as IoT Hub limits it) and delivered when it
/// subscribes. Delivery over MQTT completes the message; there is no feedback channel.
/// </summary>
internal sealed class CloudToDeviceQueue(HubConnections connections)
{
    public const int MaxQueuedPerDevice = 50;

    private readonly ConcurrentDictionary<string, Queue<CloudToDeviceMessage>> _queues = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Sends or queues the message; false when the device's queue is full.</summary>
    public async Task<bool> SendAsync(string hubName, string deviceId, CloudToDeviceMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var queue = _queues.GetOrAdd(HubConnections.KeyOf(hubName, deviceId), static _ => new Queue<CloudToDeviceMessage>());
        lock (queue)
        {
            if (queue.Count >= MaxQueuedPerDevice) return false;
            queue.Enqueue(message);
        }

        if (connections.Find(hubName, deviceId) is { CloudToDeviceSubscribed: true } connection)
        {
            await DeliverAsync(connection).ConfigureAwait(false);
        }

        return true;
    }

    public int CountOf(string hubName, string deviceId)
    {
        if (!_queues.TryGetValue(HubConnections.KeyOf(hubName, deviceId), out var queue)) return 0;
        lock (queue)
        {
            return queue.Count;
        }
    }

    /// <summary>Hands every queued message to the connection, in order; one the connection could not take stays queued.</summary>
    public async Task DeliverAsync(HubDeviceConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!_queues.TryGetValue(connection.Identity.Key, out var queue)) return;
        while (true)
        {
            CloudToDeviceMessage? next;
            lock (queue)
            {
                if (!queue.TryDequeue(out next)) return;
            }

            if (!await connection.SendAsync(TopicOf(connection.Identity.DeviceId, next), next.Body).ConfigureAwait(false))
            {
                lock (queue)
                {
                    var rest = queue.ToArray();
                    queue.Clear();
                    queue.Enqueue(next);
                    foreach (var item in rest) queue.Enqueue(item);
                }

                return;
            }
        }
    }

    private static string TopicOf(string deviceId, CloudToDeviceMessage message)
    {
        var properties = new List<KeyValuePair<string, string>>
        {
            new("$.mid", message.MessageId),
            new("$.to", $"/devices/{deviceId}/messages/deviceBound"),
        };
        if (message.CorrelationId is { } correlationId) properties.Add(new("$.cid", correlationId));
        properties.AddRange(message.Properties);
        return $"devices/{deviceId}/messages/devicebound/{PropertyBag.Format(properties)}";
    }
}
