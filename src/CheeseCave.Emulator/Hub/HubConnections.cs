using System.Collections.Concurrent;

namespace CheeseCave.Emulator.Hub;

/// <summary>What the registry shows about a device's connection: state, when it changed, and its last activity.</summary>
internal sealed record DeviceConnectionState(bool Connected, DateTimeOffset? StateUpdated, DateTimeOffset? LastActivity);

/// <summary>The devices connected to the emulated hubs right now, one connection per device (a new one replaces the old, as in IoT Hub).</summary>
internal sealed class HubConnections(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, HubDeviceConnection> _live = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _stateUpdated = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ActivityTime> _lastActivity = new(StringComparer.OrdinalIgnoreCase);

    public static string KeyOf(string hubName, string deviceId) => $"{hubName.ToLowerInvariant()}/{deviceId}";

    public void Connected(HubDeviceConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var key = connection.Identity.Key;
        _live[key] = connection;
        var now = time.GetUtcNow();
        _stateUpdated[key] = now;
        ActivityOf(key).Set(now);
    }

    public void Disconnected(HubDeviceConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var key = connection.Identity.Key;
        if (_live.TryRemove(new KeyValuePair<string, HubDeviceConnection>(key, connection)))
        {
            _stateUpdated[key] = time.GetUtcNow();
        }
    }

    public HubDeviceConnection? Find(string hubName, string deviceId) => _live.TryGetValue(KeyOf(hubName, deviceId), out var connection) ? connection : null;

    public void Touch(HubDeviceIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ActivityOf(identity.Key).Set(time.GetUtcNow());
    }

    public DeviceConnectionState StateOf(string hubName, string deviceId)
    {
        var key = KeyOf(hubName, deviceId);
        return new DeviceConnectionState(
            _live.ContainsKey(key),
            _stateUpdated.TryGetValue(key, out var updated) ? updated : null,
            _lastActivity.TryGetValue(key, out var activity) ? activity.Value : null);
    }

    // One holder per device, updated in place: Touch runs for every message a device sends, and replacing a
    // DateTimeOffset value in a ConcurrentDictionary allocates a new node each time.
    private ActivityTime ActivityOf(string key) => _lastActivity.GetOrAdd(key, static _ => new ActivityTime());

    private sealed class ActivityTime
    {
        private long _utcTicks;

        public DateTimeOffset Value => new(Volatile.Read(ref _utcTicks), TimeSpan.Zero);

        public void Set(DateTimeOffset time) => Volatile.Write(ref _utcTicks, time.UtcTicks);
    }
}
