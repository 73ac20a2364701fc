using System.Security.Claims;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Telemetry;
using CheeseCave.Provisioning.Errors;
using CheeseCave.Provisioning.IotHub;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.HubDevices;

/// <summary>
/// The Devices page of a hub linked to a setup's DPS: the hub's devices with status, connection state, last activity
/// and last telemetry, and one device's twin and last messages. Viewer. The hub's key (a policy with RegistryWrite
/// and ServiceConnect, iothubowner first, from ARM listkeys) is used on the server for each read and never stored
/// or shown. Telemetry is read from the emulator only; against Azure the view says why it is not shown.
/// </summary>
public sealed class HubDevicesHandler(SetupPipeline pipeline)
{
    /// <summary>How many of the hub's newest messages are read to find each device's last one.</summary>
    public const int TelemetryWindow = HubServiceClient.MaxItems;

    /// <summary>How many messages the details panel shows.</summary>
    public const int MessagesShown = 10;

    private const int PreviewLength = 80;

    internal const string AzureTelemetryNote = "Telemetry is not shown for Azure hubs: Azure IoT Hub hands device messages to services only through the hub's "
        + "Event Hubs-compatible endpoint (AMQP, under Built-in endpoints in the Azure portal), which this portal does not read. "
        + "Watch them with an Event Hubs client or `az iot hub monitor-events --hub-name <hub>`.";

    public Task<PortalResult<HubDevicesView>> ListDevicesAsync(ClaimsPrincipal caller, int setupId, string hubName, CancellationToken cancellationToken = default) =>
        ReadAsync(caller, setupId, hubName, async (setup, hubHost, service) =>
        {
            var devices = await service.ListDevicesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var last = new Dictionary<string, HubTelemetryEvent>(StringComparer.OrdinalIgnoreCase);
            if (service.CanReadTelemetry)
            {
                foreach (var message in await service.ReadTelemetryAsync(null, TelemetryWindow, cancellationToken).ConfigureAwait(false))
                {
                    last[message.DeviceId] = message; // oldest first: the last one wins
                }
            }

            var rows = devices.Select(d => new HubDeviceRow(d.DeviceId, d.Status, d.StatusReason, d.AuthenticationType, d.IsConnected, d.ConnectionStateUpdated, d.LastActivity,
                last.TryGetValue(d.DeviceId, out var message) ? message.EnqueuedTime : null,
                message is null ? null : Preview(message))).ToList();
            return PortalResult.Ok(new HubDevicesView(setup.Id, setup.Name, hubName, hubHost, service.CanReadTelemetry,
                service.CanReadTelemetry ? null : AzureTelemetryNote, rows, pipeline.Time.GetUtcNow()));
        }, cancellationToken);

    public Task<PortalResult<HubDeviceDetailsView>> GetDeviceAsync(ClaimsPrincipal caller, int setupId, string hubName, string deviceId, CancellationToken cancellationToken = default) =>
        ReadAsync(caller, setupId, hubName, async (_, hubHost, service) =>
        {
            if (string.IsNullOrWhiteSpace(deviceId))
            {
                return PortalResult.Fail<HubDeviceDetailsView>(new PortalError("No device was named.", "Pick a device in the table."));
            }

            var twin = await service.GetTwinAsync(deviceId, cancellationToken).ConfigureAwait(false);
            if (twin is null)
            {
                return PortalResult.Fail<HubDeviceDetailsView>(new PortalError($"The hub {hubHost} has no device '{deviceId}' (any more).", "Refresh the list to see the hub's devices as they are now."));
            }

            IReadOnlyList<HubMessageView> messages = service.CanReadTelemetry
                ? [.. (await service.ReadTelemetryAsync(deviceId, MessagesShown, cancellationToken).ConfigureAwait(false))
                    .OrderByDescending(m => m.SequenceNumber)
                    .Select(m => new HubMessageView(m.SequenceNumber, m.EnqueuedTime, m.IsBase64 ? $"(binary, base64) {m.Body}" : m.Body, m.ContentType, m.Properties))]
                : [];
            return PortalResult.Ok(new HubDeviceDetailsView(twin.DeviceId, hubHost, twin.Version, Indented(twin.Tags), twin.DesiredVersion, Indented(twin.Desired),
                twin.ReportedVersion, Indented(twin.Reported), service.CanReadTelemetry, messages));
        }, cancellationToken);

    /// <summary>Viewer check, the setup, the hub among the setup's linked hubs, then the read with a service client for that hub; errors as results.</summary>
    private async Task<PortalResult<T>> ReadAsync<T>(ClaimsPrincipal caller, int setupId, string hubName, Func<DpsSetup, string, HubServiceClient, Task<PortalResult<T>>> read, CancellationToken cancellationToken)
    {
        using var span = PortalActivity.StartAction("setup.hub-devices", setupId);
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<T>(PortalError.NotAllowed("see a hub's devices"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return PortalResult.Fail<T>(PortalError.NotFound);
        }

        var hubHost = LinkedHubHosts(setup.LinkedHubs).FirstOrDefault(h => string.Equals(h.Split('.')[0], hubName, StringComparison.OrdinalIgnoreCase));
        if (hubHost is null)
        {
            return PortalResult.Fail<T>(new PortalError($"IoT hub '{hubName}' is not linked to the DPS of setup '{setup.Name}'.",
                "Open the devices of a hub listed in step 2, or link this hub to the DPS there first."));
        }

        try
        {
            var arm = pipeline.Provisioning.CreateArmClient(caller);
            var hub = (await arm.ListIotHubsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(h => string.Equals(h.HostName, hubHost, StringComparison.OrdinalIgnoreCase));
            if (hub is null)
            {
                return PortalResult.Fail<T>(new PortalError($"IoT hub {hubHost} is linked to the DPS but not found in the subscription.",
                    "It may have been deleted, or the portal's identity cannot see its resource group: check in the Azure portal, then unlink it in step 2."));
            }

            var connectionString = await arm.GetIotHubConnectionStringAsync(hub.ResourceGroup, hub.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            using var service = new HubServiceClient(connectionString, pipeline.Provisioning.GetConnection(caller), new HubRegistryClientOptions { TimeProvider = pipeline.Time });
            return await read(setup, hubHost, service).ConfigureAwait(false);
        }
        catch (ProvisioningException ex)
        {
            var error = PortalError.From(ex);
            return PortalResult.Fail<T>(ex.Status is 401 or 403 && ex.Surface == ProvisioningSurface.Service
                ? error with { WhatToDo = "The hub refused the portal's key: its shared access policy may have been regenerated or removed. Refresh to read the keys again; if it persists, check the hub's iothubowner policy." }
                : error);
        }
    }

    /// <summary>"host (weight N), host2 (weight M)" → the host names.</summary>
    internal static IEnumerable<string> LinkedHubHosts(string? linkedHubs) =>
        (linkedHubs ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(h => h.Split(' ', 2)[0])
            .Where(h => h.Length > 0);

    private static string Preview(HubTelemetryEvent message)
    {
        var text = message.IsBase64 ? $"(binary) {message.Body}" : message.Body;
        return text.Length <= PreviewLength ? text : string.Concat(text.AsSpan(0, PreviewLength - 1), "…");
    }

    private static readonly System.Text.Json.JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private static string Indented(System.Text.Json.Nodes.JsonObject json) => json.ToJsonString(IndentedJson);
}
