using System.Text.Json.Nodes;

namespace CheeseCave.Provisioning.IotHub;

/// <summary>
/// A device identity in an IoT hub's registry (GET /devices/{id}), as far as the portal uses it. The whole JSON is
/// kept (<see cref="Body"/>) because IoT Hub's PUT replaces the identity: an update sends the body it read, changed.
/// </summary>
public sealed record HubDeviceIdentity(string DeviceId, string Etag, string Status, string? StatusReason, string AuthenticationType, string? ConnectionState, JsonObject Body)
{
    public bool IsEnabled => string.Equals(Status, HubDeviceStatus.Enabled, StringComparison.OrdinalIgnoreCase);

    internal static HubDeviceIdentity From(JsonObject json) => new(
        Text(json, "deviceId") ?? "",
        Text(json, "etag") ?? "",
        Text(json, "status") ?? HubDeviceStatus.Enabled,
        Text(json, "statusReason"),
        json["authentication"] is JsonObject authentication ? Text(authentication, "type") ?? "" : "",
        Text(json, "connectionState"),
        json);

    private static string? Text(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}

/// <summary>The two values of a device identity's status.</summary>
public static class HubDeviceStatus
{
    public const string Enabled = "enabled";
    public const string Disabled = "disabled";
}
