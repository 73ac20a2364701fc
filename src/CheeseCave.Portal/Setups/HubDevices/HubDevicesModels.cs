namespace CheeseCave.Portal.Setups.HubDevices;

/// <summary>The devices of one hub of a setup, as read just now, with the last telemetry each sent (when it can be read).</summary>
public sealed record HubDevicesView(
    int SetupId,
    string SetupName,
    string HubName,
    string HubHost,
    bool TelemetryAvailable,
    string? TelemetryNote,
    IReadOnlyList<HubDeviceRow> Devices,
    DateTimeOffset ReadAt);

/// <summary>One device of the hub: its registry status, live connection state and last telemetry. No keys.</summary>
public sealed record HubDeviceRow(
    string DeviceId,
    string Status,
    string? StatusReason,
    string AuthenticationType,
    bool IsConnected,
    DateTimeOffset? ConnectionStateUpdated,
    DateTimeOffset? LastActivity,
    DateTimeOffset? LastTelemetryAt,
    string? LastTelemetryPreview)
{
    public bool IsEnabled => string.Equals(Status, "enabled", StringComparison.OrdinalIgnoreCase);
}

/// <summary>One device in detail: its twin (desired and reported JSON with their versions) and its last messages.</summary>
public sealed record HubDeviceDetailsView(
    string DeviceId,
    string HubHost,
    long TwinVersion,
    string TagsJson,
    long DesiredVersion,
    string DesiredJson,
    long ReportedVersion,
    string ReportedJson,
    bool TelemetryAvailable,
    IReadOnlyList<HubMessageView> Messages);

/// <summary>A telemetry message as the page shows it, newest first.</summary>
public sealed record HubMessageView(long SequenceNumber, DateTimeOffset EnqueuedTime, string Body, string? ContentType, IReadOnlyDictionary<string, string> Properties);
