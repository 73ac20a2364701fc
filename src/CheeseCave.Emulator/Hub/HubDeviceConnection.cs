namespace CheeseCave.Emulator.Hub;

/// <summary>Which hub and device a connection authenticated as.</summary>
internal sealed record HubDeviceIdentity(string HubName, string HubHostName, string DeviceId)
{
    // Both made once per connection, not per message: every telemetry message needs them.
    public string Key { get; } = HubConnections.KeyOf(HubName, DeviceId);

    /// <summary>The device's telemetry topic up to its property bag: devices/{id}/messages/events/.</summary>
    public string TelemetryTopic { get; } = $"devices/{DeviceId}/messages/events/";
}

/// <summary>
/// One live device connection, whatever its transport: what it subscribed to and how to push a message to it.
/// The hub features (twin, methods, cloud-to-device) only talk to this, so another transport plugs in the same way.
/// </summary>
internal sealed class HubDeviceConnection(HubDeviceIdentity identity, string connectionId, Func<string, byte[], ValueTask<bool>> send)
{
    public HubDeviceIdentity Identity { get; } = identity;

    /// <summary>Unique per connection, so a late disconnect of a replaced connection does not drop its successor.</summary>
    public string ConnectionId { get; } = connectionId;

    public volatile bool MethodsSubscribed;

    public volatile bool DesiredSubscribed;

    public volatile bool CloudToDeviceSubscribed;

    /// <summary>Sends a message on <paramref name="topic"/>; false when the connection is gone.</summary>
    public ValueTask<bool> SendAsync(string topic, byte[] payload) => send(topic, payload);
}
