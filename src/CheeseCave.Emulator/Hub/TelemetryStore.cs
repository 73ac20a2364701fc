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
/// a quiet device still shows what it sent last. Sequence numbers grow per hub without gaps, so readers ask for what
/// is new, wait for it (<see cref="WaitAsync"/>), and see a jump in sequence numbers when they fell behind.
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
        var message = log.Append(identity.DeviceId, time, body, properties, systemProperties);
        _lastByDevice[identity.Key] = message;
        return message;
    }

    /// <summary>Up to <paramref name="top"/> messages after sequence number <paramref name="after"/>, oldest first, of one device or all.</summary>
    public IReadOnlyList<TelemetryMessage> Read(string hubName, string? deviceId, long after, int top) =>
        ReadPage(hubName, deviceId, after, top).Messages;

    /// <summary>
    /// As <see cref="Read"/>, with the sequence number the read got <paramref name="through"/> (messages of other
    /// devices included), where the next read starts.
    /// </summary>
    public (IReadOnlyList<TelemetryMessage> Messages, long Through) ReadPage(string hubName, string? deviceId, long after, int top) =>
        _hubs.TryGetValue(hubName, out var log) ? log.Read(deviceId, after, top) : ([], after);

    /// <summary>The newest <paramref name="top"/> messages of one device or all, oldest first.</summary>
    public IReadOnlyList<TelemetryMessage> Latest(string hubName, string? deviceId, int top) =>
        _hubs.TryGetValue(hubName, out var log) ? log.Latest(deviceId, top) : [];

    /// <summary>The sequence number of the hub's newest message (0 before the first).</summary>
    public long LastSequence(string hubName) => _hubs.TryGetValue(hubName, out var log) ? log.LastSequence : 0;

    /// <summary>Completes when the hub holds a message after <paramref name="after"/> (at once if it already does).</summary>
    public Task WaitAsync(string hubName, long after, CancellationToken cancellationToken) =>
        _hubs.GetOrAdd(hubName, static _ => new HubLog()).WaitAsync(after, cancellationToken);

    public TelemetryMessage? LastOf(string hubName, string deviceId) =>
        _lastByDevice.TryGetValue(HubConnections.KeyOf(hubName, deviceId), out var message) ? message : null;

    /// <summary>
    /// A ring of the newest messages indexed by sequence number, so a reader finds its place at once instead of
    /// scanning, and a waiter that is woken by the next append (one wake-up per batch of appends, not per message).
    /// </summary>
    private sealed class HubLog
    {
        private readonly TelemetryMessage?[] _ring = new TelemetryMessage?[MaxMessagesPerHub];
        private readonly Lock _gate = new();
        private long _last;
        private TaskCompletionSource? _arrival;

        public long LastSequence
        {
            get
            {
                lock (_gate) return _last;
            }
        }

        public TelemetryMessage Append(string deviceId, TimeProvider time, byte[] body, IReadOnlyDictionary<string, string> properties, IReadOnlyDictionary<string, string> systemProperties)
        {
            TelemetryMessage message;
            TaskCompletionSource? arrival;
            lock (_gate)
            {
                // Stamped inside the lock so enqueued times never go backwards along the sequence.
                message = new TelemetryMessage(++_last, deviceId, time.GetUtcNow(), body, properties, systemProperties);
                _ring[_last % MaxMessagesPerHub] = message;
                arrival = _arrival;
                _arrival = null;
            }

            arrival?.TrySetResult();
            return message;
        }

        public (IReadOnlyList<TelemetryMessage> Messages, long Through) Read(string? deviceId, long after, int top)
        {
            var result = new List<TelemetryMessage>(Math.Min(top, 256));
            lock (_gate)
            {
                var sequence = Math.Max(after + 1, Oldest);
                for (; sequence <= _last && result.Count < top; sequence++)
                {
                    var message = _ring[sequence % MaxMessagesPerHub]!;
                    if (Matches(message, deviceId)) result.Add(message);
                }

                return (result, Math.Max(after, sequence - 1));
            }
        }

        public List<TelemetryMessage> Latest(string? deviceId, int top)
        {
            var result = new List<TelemetryMessage>(Math.Min(top, 256));
            lock (_gate)
            {
                for (var sequence = _last; sequence >= Oldest && result.Count < top; sequence--)
                {
                    var message = _ring[sequence % MaxMessagesPerHub]!;
                    if (Matches(message, deviceId)) result.Add(message);
                }
            }

            result.Reverse();
            return result;
        }

        public Task WaitAsync(long after, CancellationToken cancellationToken)
        {
            Task arrival;
            lock (_gate)
            {
                if (_last > after) return Task.CompletedTask;
                _arrival ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                arrival = _arrival.Task;
            }

            return arrival.WaitAsync(cancellationToken);
        }

        private long Oldest => Math.Max(1, _last - MaxMessagesPerHub + 1);

        private static bool Matches(TelemetryMessage message, string? deviceId) =>
            deviceId is null || string.Equals(message.DeviceId, deviceId, StringComparison.OrdinalIgnoreCase);
    }
}
