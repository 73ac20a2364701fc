using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Device;

/// <summary>What a PUT /devices/{id} decided: the stored device, or IoT Hub's error (status, code, message).</summary>
internal sealed record HubDevicePutResult(HubDeviceEntity? Device, int Status, string? ErrorCode, string? Message);

/// <summary>
/// The write side of the hub's device registry, as IoT Hub answers it: a PUT creates the identity when it is missing
/// (no If-Match needed); on an existing identity it needs If-Match ("*" or the current etag) — without one it is
/// 409 DeviceAlreadyExists, with a stale one 412 PreconditionFailed. The etag check and the write happen in one
/// store transaction, so two writers holding the same etag cannot both win.
/// </summary>
internal sealed class HubRegistryStore(EmulatorContext context)
{
    public const int MaxStatusReasonLength = 128;

    public Task<HubDevicePutResult> PutAsync(string hub, string deviceId, JsonObject body, string? ifMatch) =>
        context.Store.WriteAsync(tx =>
        {
            var key = ArmKeys.HubDevice(hub, deviceId);
            var existing = context.Store.HubDevices.Get(key);
            if (Invalid(body, deviceId) is { } invalid)
            {
                return invalid;
            }

            var now = context.Time.GetUtcNow();
            var status = Text(body, "status") ?? existing?.Status ?? "enabled";
            var reason = Text(body, "statusReason");
            var statusUpdated = existing is null || !string.Equals(existing.Status, status, StringComparison.Ordinal) ? now : existing.StatusUpdated;
            var (type, primary, secondary, primaryKey, secondaryKey) = Authentication(body, existing);
            var iotEdge = body["capabilities"]?["iotEdge"]?.GetValue<bool>() ?? existing?.IotEdge ?? false;
            HubDeviceEntity device;
            if (existing is null)
            {
                device = new HubDeviceEntity(hub, deviceId, type, primary, secondary, iotEdge, status, [], [], EmulatorContext.NewEtag(), now, now,
                    primaryKey, secondaryKey, reason, now);
            }
            else
            {
                if (string.IsNullOrEmpty(ifMatch))
                {
                    return new HubDevicePutResult(null, 409, "DeviceAlreadyExists",
                        $"A device with ID '{deviceId}' is already registered. To update it, send If-Match with its etag, or '*' to overwrite whatever is there.");
                }

                if (!EtagMatches(ifMatch, existing.Etag))
                {
                    return new HubDevicePutResult(null, 412, "PreconditionFailed",
                        $"Precondition failed: the device '{deviceId}' changed since its etag {ifMatch} was read (current etag \"{existing.Etag}\"). Read the device again and repeat the update with the new etag.");
                }

                device = existing with
                {
                    AuthenticationType = type,
                    PrimaryThumbprint = primary,
                    SecondaryThumbprint = secondary,
                    PrimaryKey = primaryKey,
                    SecondaryKey = secondaryKey,
                    IotEdge = iotEdge,
                    Status = status,
                    StatusReason = reason,
                    StatusUpdated = statusUpdated,
                    Etag = EmulatorContext.NewEtag(),
                    Updated = now,
                };
            }

            tx.Put(context.Store.HubDevices, key, device);
            return new HubDevicePutResult(device, 200, null, null);
        });

    /// <summary>"*", or the etag, with or without the quotes IoT Hub puts around it in headers (azure-iothub sends "\"*\"").</summary>
    internal static bool EtagMatches(string ifMatch, string etag)
    {
        var value = ifMatch.Trim();
        return value == "*" || value == etag || value.Trim('"') == "*" || value.Trim('"') == etag;
    }

    private static HubDevicePutResult? Invalid(JsonObject body, string deviceId)
    {
        if (Text(body, "deviceId") is { } named && !string.Equals(named, deviceId, StringComparison.Ordinal))
        {
            return new(null, 400, "ArgumentInvalid", $"The deviceId in the body ('{named}') does not match the device id in the URL ('{deviceId}').");
        }

        if (Text(body, "status") is { } status && status is not ("enabled" or "disabled"))
        {
            return new(null, 400, "ArgumentInvalid", $"status '{status}' is not valid: use 'enabled' or 'disabled'.");
        }

        if (Text(body, "statusReason") is { Length: > MaxStatusReasonLength })
        {
            return new(null, 400, "ArgumentInvalid", $"statusReason is longer than {MaxStatusReasonLength} characters.");
        }

        return null;
    }

    private static (string Type, string? Primary, string? Secondary, string? PrimaryKey, string? SecondaryKey) Authentication(JsonObject body, HubDeviceEntity? existing)
    {
        if (body["authentication"] is not JsonObject authentication)
        {
            return existing is null
                ? ("sas", null, null, NewKey(), NewKey())
                : (existing.AuthenticationType, existing.PrimaryThumbprint, existing.SecondaryThumbprint, existing.PrimaryKey, existing.SecondaryKey);
        }

        var type = Text(authentication, "type") ?? "sas";
        var primary = authentication["x509Thumbprint"]?["primaryThumbprint"]?.GetValue<string?>();
        var secondary = authentication["x509Thumbprint"]?["secondaryThumbprint"]?.GetValue<string?>();
        var primaryKey = authentication["symmetricKey"]?["primaryKey"]?.GetValue<string?>();
        var secondaryKey = authentication["symmetricKey"]?["secondaryKey"]?.GetValue<string?>();
        return type == "sas"
            ? (type, null, null, string.IsNullOrEmpty(primaryKey) ? NewKey() : primaryKey, string.IsNullOrEmpty(secondaryKey) ? NewKey() : secondaryKey)
            : (type, primary, secondary, null, null);
    }

    private static string? Text(JsonObject body, string name) =>
        body[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
