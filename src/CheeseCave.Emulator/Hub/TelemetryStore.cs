using System.Collections.Concurrent;

namespace CheeseCave.Emulator.Hub;

/// <summary>One device-to-cloud message as the hub received it.</summary>
internal sealed record TelemetryMessage(
    long SequenceNumber,
    string DeviceId,
    DateTimeOffset EnqueuedTime,
    byte[] Body,
    IReadOnlyDictionary<string, string> Properties,
    IReadOnlyDictionary<string, string> SystemProperties);

/// <summary>
/// The telemetry of each hub, in memory only: the newest <see cref="MaxMessagesPerHub"/> messages per hub (older ones
/// are dropped, as an Event Hubs partition drops messages past retention), plus the last message of every device so
/// a quiet device still shows what it sent last. Sequence numbers grow per hub, so readers can ask for what is new.
/// </summary>
internal sealed class TelemetryStore(TimeProvider time)
{
    public const int MaxMessagesPerHub = 10_000;

    private readonly ConcurrentDictionary<string, HubLog> _hubs = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, TelemetryMessage> _lastByDevice = new(StringComparer.OrdinalIgnoreCase);

    public TelemetryMessage Add(HubDeviceIdentity identity, byte[] body, IReadOnlyDictionary<string, string> properties, IReadOnlyDictionary<string, string> systemProperties)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var log = _hubs.GetOrAdd(identity.HubName, static _ => new HubLog());
        TelemetryMessage message;
        lock (log)
        {
            message = new TelemetryMessage(++log.LastSequence, identity.DeviceId, time.GetUtcNow(), body, properties, systemProperties);
            log.Messages.Enqueue(message);
            while (log.Messages.Count > MaxMessagesPerHub)
            {
                log.Messages.Dequeue();
            }
        }

        _lastByDevice[identity.Key] = message;
        return message;
    }

    /// <summary>Up to <paramref name="top"/> messages after sequence number <paramref name="after"/>, oldest first, of one device or all.</summary>
    public IReadOnlyList<TelemetryMessage> Read(string hubName, string? deviceId, long after, int top)
    {
        if (!_hubs.TryGetValue(hubName, out var log)) return [];
        lock (log)
        {
            return log.Messages
                .Where(m => m.SequenceNumber > after && (deviceId is null || string.Equals(m.DeviceId, deviceId, StringComparison.OrdinalIgnoreCase)))
                .Take(top)
                .ToList();
        }
    }

    /// <summary>The newest <paramref name="top"/> messages of one device or all, oldest first.</summary>
    public IReadOnlyList<TelemetryMessage> Latest(string hubName, string? deviceId, int top)
    {
        if (!_hubs.TryGetValue(hubName, out var log)) return [];
        lock (log)
        {
            var matching = log.Messages.Where(m => deviceId is null || string.Equals(m.DeviceId, deviceId, StringComparison.OrdinalIgnoreCase)).ToList();
            return matching.Skip(Math.Max(0, matching.Count - top)).ToList();
        }
    }

    public TelemetryMessage? LastOf(string hubName, string deviceId) =>
        _lastByDevice.TryGetValue(HubConnections.KeyOf(hubName, deviceId), out var message) ? message : null;

    private sealed class HubLog
    {
        public Queue<TelemetryMessage> Messages { get; } = new();

        public long LastSequence { get; set; }
    }
}
