using System.Globalization;
using System.Text.Json.Nodes;

namespace CheeseCave.Provisioning.IotHub;

/// <summary>A device in the hub's registry with its live state (GET /devices): no keys.</summary>
public sealed record HubDeviceSummary(
    string DeviceId,
    string Status,
    string? StatusReason,
    string AuthenticationType,
    bool IsConnected,
    DateTimeOffset? ConnectionStateUpdated,
    DateTimeOffset? LastActivity,
    int CloudToDeviceMessageCount)
{
    internal static HubDeviceSummary From(JsonObject json) => new(
        HubJson.Text(json, "deviceId") ?? "",
        HubJson.Text(json, "status") ?? HubDeviceStatus.Enabled,
        HubJson.Text(json, "statusReason"),
        json["authentication"] is JsonObject authentication ? HubJson.Text(authentication, "type") ?? "" : "",
        string.Equals(HubJson.Text(json, "connectionState"), "Connected", StringComparison.OrdinalIgnoreCase),
        HubJson.Time(json, "connectionStateUpdatedTime"),
        HubJson.Time(json, "lastActivityTime"),
        json["cloudToDeviceMessageCount"] is JsonValue count && count.TryGetValue<int>(out var n) ? n : 0);
}

/// <summary>A device twin as the service reads it (GET /twins/{id}): tags, desired and reported properties and their versions.</summary>
public sealed record HubDeviceTwin(
    string DeviceId,
    string? Etag,
    long Version,
    JsonObject Tags,
    JsonObject Desired,
    long DesiredVersion,
    JsonObject Reported,
    long ReportedVersion)
{
    internal static HubDeviceTwin From(JsonObject json)
    {
        var properties = json["properties"] as JsonObject;
        var (desired, desiredVersion) = Section(properties?["desired"]);
        var (reported, reportedVersion) = Section(properties?["reported"]);
        return new HubDeviceTwin(
            HubJson.Text(json, "deviceId") ?? "",
            HubJson.Text(json, "etag"),
            json["version"] is JsonValue v && v.TryGetValue<long>(out var version) ? version : 0,
            json["tags"] is JsonObject tags ? (JsonObject)tags.DeepClone() : [],
            desired,
            desiredVersion,
            reported,
            reportedVersion);
    }

    /// <summary>The properties without "$" entries ($version, $metadata); the version apart.</summary>
    private static (JsonObject Properties, long Version) Section(JsonNode? node)
    {
        var result = new JsonObject();
        long version = 0;
        if (node is JsonObject section)
        {
            foreach (var (key, value) in section)
            {
                if (key == "$version" && value is JsonValue number && number.TryGetValue<long>(out var n)) version = n;
                else if (!key.StartsWith('$')) result[key] = value?.DeepClone();
            }
        }

        return (result, version);
    }
}

/// <summary>One telemetry message the hub received, as the emulator's read endpoint returns it.</summary>
public sealed record HubTelemetryEvent(
    long SequenceNumber,
    string DeviceId,
    DateTimeOffset EnqueuedTime,
    string Body,
    bool IsBase64,
    IReadOnlyDictionary<string, string> Properties,
    IReadOnlyDictionary<string, string> SystemProperties)
{
    /// <summary>The content type the device declared ($.ct / iothub-contenttype), if any.</summary>
    public string? ContentType => SystemProperties.TryGetValue("contentType", out var ct) ? ct
        : SystemProperties.TryGetValue("$.ct", out var abbreviated) ? abbreviated : null;

    internal static HubTelemetryEvent From(JsonObject json)
    {
        var (body, isBase64) = json["body"] is { } text
            ? (text is JsonValue value && value.TryGetValue<string>(out var plain) ? plain : text.ToJsonString(), false)
            : (HubJson.Text(json, "bodyBase64") ?? "", true);
        return new HubTelemetryEvent(
            json["sequenceNumber"] is JsonValue s && s.TryGetValue<long>(out var sequence) ? sequence : 0,
            HubJson.Text(json, "deviceId") ?? "",
            HubJson.Time(json, "enqueuedTimeUtc") ?? DateTimeOffset.MinValue,
            body,
            isBase64,
            Map(json["properties"]),
            Map(json["systemProperties"]));
    }

    private static Dictionary<string, string> Map(JsonNode? node) =>
        node is JsonObject map
            ? map.ToDictionary(p => p.Key, p => p.Value is JsonValue v && v.TryGetValue<string>(out var text) ? text : p.Value?.ToJsonString() ?? "", StringComparer.Ordinal)
            : [];
}

internal static class HubJson
{
    public static string? Text(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>A timestamp; IoT Hub's "never" (0001-01-01) is null.</summary>
    public static DateTimeOffset? Time(JsonObject json, string name) =>
        Text(json, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) && time.Year > 1
            ? time
            : null;
}
