using System.Text.Json.Nodes;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Hub;

/// <summary>
/// The twin in IoT Hub's two shapes: the service's document (GET /twins/{id}) and the device's (the MQTT twin GET
/// answer {"desired":{..,"$version":n},"reported":{..,"$version":m}}). Stored properties never keep "$" keys (an
/// initial twin from an enrollment may carry "$version"); the versions live beside them.
/// </summary>
internal static class TwinJson
{
    private const string NeverUtc = "0001-01-01T00:00:00Z";

    public static JsonObject Device(HubDeviceEntity device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new JsonObject
        {
            ["desired"] = Properties(device.Desired, device.DesiredVersion, metadata: null),
            ["reported"] = Properties(device.Reported, device.ReportedVersion, metadata: null),
        };
    }

    public static JsonObject Service(HubDeviceEntity device, DeviceConnectionState state)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(state);
        var updated = RegistrationJson.Timestamp(device.Updated);
        return new JsonObject
        {
            ["deviceId"] = device.DeviceId,
            ["etag"] = EtagOf(device),
            ["deviceEtag"] = device.Etag,
            ["status"] = device.Status,
            ["statusUpdateTime"] = device.StatusUpdated is { } changed ? RegistrationJson.Timestamp(changed) : NeverUtc,
            ["connectionState"] = state.Connected ? "Connected" : "Disconnected",
            ["lastActivityTime"] = state.LastActivity is { } activity ? RegistrationJson.Timestamp(activity) : NeverUtc,
            ["cloudToDeviceMessageCount"] = 0,
            ["authenticationType"] = device.AuthenticationType,
            ["x509Thumbprint"] = new JsonObject { ["primaryThumbprint"] = device.PrimaryThumbprint, ["secondaryThumbprint"] = device.SecondaryThumbprint },
            ["modelId"] = string.Empty,
            ["version"] = device.DesiredVersion + device.ReportedVersion,
            ["tags"] = device.Tags.DeepClone(),
            ["properties"] = new JsonObject
            {
                ["desired"] = Properties(device.Desired, device.DesiredVersion, updated),
                ["reported"] = Properties(device.Reported, device.ReportedVersion, updated),
            },
            ["capabilities"] = new JsonObject { ["iotEdge"] = device.IotEdge },
        };
    }

    /// <summary>The twin etag: its own once the twin changed, else the identity's (what the registry had before).</summary>
    public static string EtagOf(HubDeviceEntity device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.TwinEtag ?? device.Etag;
    }

    /// <summary>Stored properties without any "$" key.</summary>
    public static JsonObject Clean(JsonObject? properties)
    {
        var result = new JsonObject();
        if (properties is null) return result;
        foreach (var (key, value) in properties)
        {
            if (!key.StartsWith('$')) result[key] = value?.DeepClone();
        }

        return result;
    }

    /// <summary>
    /// JSON merge patch as twins apply it: a null removes the property, an object merges into an object, anything
    /// else replaces. "$" keys in the patch are ignored.
    /// </summary>
    public static void Merge(JsonObject target, JsonObject patch)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(patch);
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith('$')) continue;
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject child && target[key] is JsonObject existing)
            {
                Merge(existing, child);
            }
            else
            {
                target[key] = value is JsonObject fresh ? WithoutNulls(fresh) : value.DeepClone();
            }
        }
    }

    private static JsonObject WithoutNulls(JsonObject source)
    {
        var result = new JsonObject();
        Merge(result, source);
        return result;
    }

    private static JsonObject Properties(JsonObject? stored, long version, string? metadata)
    {
        var result = Clean(stored);
        if (metadata is not null)
        {
            result["$metadata"] = new JsonObject { ["$lastUpdated"] = metadata };
        }

        result["$version"] = version;
        return result;
    }
}
