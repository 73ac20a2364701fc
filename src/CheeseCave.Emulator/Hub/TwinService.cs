using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Hub;

/// <summary>What a twin change decided: the stored device, or IoT Hub's error (status, code, message).</summary>
internal sealed record TwinChange(HubDeviceEntity? Device, int Status, string? ErrorCode, string? Message)
{
    public static TwinChange Fail(int status, string code, string message) => new(null, status, code, message);
}

/// <summary>
/// Twin changes, stored with the device identity: reported patches from the device (reported $version + 1) and
/// service updates of tags and desired properties (desired $version + 1 when the desired part changed; the patch
/// with its new $version is pushed to the device if it subscribed to desired updates, as IoT Hub does).
/// </summary>
internal sealed class TwinService(EmulatorStore store, HubConnections connections)
{
    public HubDeviceEntity? Find(HubDeviceIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return store.HubDevices.Get(ArmKeys.HubDevice(identity.HubName, identity.DeviceId));
    }

    public Task<TwinChange> PatchReportedAsync(HubDeviceIdentity identity, JsonObject patch)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return store.WriteAsync(tx =>
        {
            var key = ArmKeys.HubDevice(identity.HubName, identity.DeviceId);
            if (store.HubDevices.Get(key) is not { } device)
            {
                return TwinChange.Fail(404, "DeviceNotFound", $"Device {identity.DeviceId} is no longer registered in IoT hub {identity.HubName}.");
            }

            var reported = TwinJson.Clean(device.Reported);
            TwinJson.Merge(reported, patch);
            var updated = device with { Reported = reported, ReportedVersion = device.ReportedVersion + 1, TwinEtag = EmulatorContext.NewEtag() };
            tx.Put(store.HubDevices, key, updated);
            return new TwinChange(updated, 204, null, null);
        });
    }

    /// <summary>PATCH /twins/{id}: merges "tags" and "properties.desired"; If-Match must be "*" or the twin etag when given.</summary>
    public async Task<TwinChange> UpdateAsync(string hubName, string deviceId, JsonObject body, string? ifMatch)
    {
        ArgumentNullException.ThrowIfNull(body);
        var tags = body["tags"];
        var desiredPatch = body["properties"]?["desired"];
        if (tags is not (null or JsonObject) || desiredPatch is not (null or JsonObject))
        {
            return TwinChange.Fail(400, "ArgumentInvalid", "The twin patch must be {\"tags\":{...},\"properties\":{\"desired\":{...}}} with JSON objects.");
        }

        if (body["properties"]?["reported"] is not null)
        {
            return TwinChange.Fail(400, "ArgumentInvalid", "Reported properties are written by the device only; patch tags and properties.desired.");
        }

        var change = await store.WriteAsync(tx =>
        {
            var key = ArmKeys.HubDevice(hubName, deviceId);
            if (store.HubDevices.Get(key) is not { } device)
            {
                return TwinChange.Fail(404, "DeviceNotFound", $"Device {deviceId} not registered in IoT hub {hubName}.");
            }

            if (!string.IsNullOrEmpty(ifMatch) && !Device.HubRegistryStore.EtagMatches(ifMatch, TwinJson.EtagOf(device)))
            {
                return TwinChange.Fail(412, "PreconditionFailed",
                    $"Precondition failed: the twin of '{deviceId}' changed since its etag {ifMatch} was read (current etag \"{TwinJson.EtagOf(device)}\"). Read the twin again and repeat the update with the new etag.");
            }

            var newTags = device.Tags.DeepClone().AsObject();
            if (tags is JsonObject tagPatch) TwinJson.Merge(newTags, tagPatch);
            var desired = TwinJson.Clean(device.Desired);
            var desiredVersion = device.DesiredVersion;
            if (desiredPatch is JsonObject patch && patch.Any(p => !p.Key.StartsWith('$')))
            {
                TwinJson.Merge(desired, patch);
                desiredVersion++;
            }

            var updated = device with { Tags = newTags, Desired = desired, DesiredVersion = desiredVersion, TwinEtag = EmulatorContext.NewEtag() };
            tx.Put(store.HubDevices, key, updated);
            return new TwinChange(updated, 200, null, null);
        }).ConfigureAwait(false);

        if (change.Device is { } stored && desiredPatch is JsonObject pushed && pushed.Any(p => !p.Key.StartsWith('$')))
        {
            await PushDesiredAsync(stored, pushed).ConfigureAwait(false);
        }

        return change;
    }

    /// <summary>Sends the desired patch with its new $version to the device, if it listens for desired updates.</summary>
    private async Task PushDesiredAsync(HubDeviceEntity device, JsonObject patch)
    {
        var connection = connections.Find(device.Hub, device.DeviceId);
        if (connection is not { DesiredSubscribed: true }) return;
        var body = patch.DeepClone().AsObject();
        body["$version"] = device.DesiredVersion;
        var topic = "$iothub/twin/PATCH/properties/desired/?$version=" + device.DesiredVersion.ToString(CultureInfo.InvariantCulture);
        await connection.SendAsync(topic, Encoding.UTF8.GetBytes(body.ToJsonString())).ConfigureAwait(false);
    }
}
