using System.Globalization;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.Service;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// The slice of the IoT Hub service API that shows what DPS did: GET /devices/{id} and GET /devices?top=N (twins,
/// methods and messages are in Hub/HubServiceEndpoints); and PUT /devices/{id} (create, or enable/disable with If-Match, see <see cref="HubRegistryStore"/>).
/// The hub is the one named by the SAS token's sr ({hub}.azure-devices.net), and the token must be signed with one of
/// its shared access policies that has RegistryRead or RegistryWrite (RegistryWrite for the PUT).
/// </summary>
internal static class HubRegistryEndpoints
{
    private const string NeverUtc = "0001-01-01T00:00:00Z";

    public static WebApplication MapHubRegistryEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var context = app.Services.GetRequiredService<EmulatorContext>();

        app.MapGet("/devices/{deviceId}", (HttpContext http, string deviceId) =>
        {
            var (hub, refusal) = Authorize(http, context);
            if (refusal is not null) return refusal;
            var device = context.Store.HubDevices.Get(ArmKeys.HubDevice(hub!, deviceId));
            return device is null ? NotFound(http, hub!, deviceId) : Results.Json(DeviceJson(device, context.Hub));
        });

        var registry = new HubRegistryStore(context);
        app.MapPut("/devices/{deviceId}", async (HttpContext http, string deviceId) =>
        {
            var (hub, refusal) = Authorize(http, context, write: true);
            if (refusal is not null) return refusal;
            JsonObject? body;
            try
            {
                body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted).ConfigureAwait(false) as JsonObject;
            }
            catch (System.Text.Json.JsonException ex)
            {
                return HubError(http, 400, "ArgumentInvalid", $"The request body is not a device identity in JSON: {ex.Message}");
            }

            if (body is null) return HubError(http, 400, "ArgumentInvalid", "The request body must be a device identity JSON object.");
            var result = await registry.PutAsync(hub!, deviceId, body, http.Request.Headers.IfMatch.ToString()).ConfigureAwait(false);
            return result.Device is { } device ? Results.Json(DeviceJson(device, context.Hub)) : HubError(http, result.Status, result.ErrorCode!, result.Message!);
        });

        app.MapGet("/devices", (HttpContext http, int? top) =>
        {
            var (hub, refusal) = Authorize(http, context);
            if (refusal is not null) return refusal;
            var devices = context.Store.HubDevices.All
                .Where(d => string.Equals(d.Hub, hub, StringComparison.OrdinalIgnoreCase))
                .OrderBy(d => d.DeviceId, StringComparer.Ordinal)
                .Take(Math.Clamp(top ?? 1000, 1, 1000))
                .Select(d => (JsonNode)DeviceJson(d, context.Hub));
            return Results.Json(new JsonArray(devices.ToArray()));
        });

        return app;
    }

    /// <summary>The IoT Hub device identity JSON (as GET /devices/{id} returns it), with the live connection state of the hub runtime.</summary>
    internal static JsonObject DeviceJson(HubDeviceEntity device, Hub.HubRuntime hub)
    {
        var state = hub.Connections.StateOf(device.Hub, device.DeviceId);
        var json = DeviceJson(device);
        json["connectionState"] = state.Connected ? "Connected" : "Disconnected";
        json["connectionStateUpdatedTime"] = state.StateUpdated is { } changed ? RegistrationJson.Timestamp(changed) : NeverUtc;
        json["lastActivityTime"] = state.LastActivity is { } active ? RegistrationJson.Timestamp(active) : NeverUtc;
        json["cloudToDeviceMessageCount"] = hub.CloudToDevice.CountOf(device.Hub, device.DeviceId);
        return json;
    }

    /// <summary>The identity alone, as stored.</summary>
    internal static JsonObject DeviceJson(HubDeviceEntity device) => new()
    {
        ["deviceId"] = device.DeviceId,
        ["generationId"] = GenerationId(device),
        ["etag"] = device.Etag,
        ["connectionState"] = "Disconnected",
        ["status"] = device.Status,
        ["statusReason"] = device.StatusReason,
        ["connectionStateUpdatedTime"] = NeverUtc,
        ["statusUpdatedTime"] = device.StatusUpdated is { } changed ? RegistrationJson.Timestamp(changed) : NeverUtc,
        ["lastActivityTime"] = NeverUtc,
        ["cloudToDeviceMessageCount"] = 0,
        ["authentication"] = new JsonObject
        {
            ["symmetricKey"] = new JsonObject { ["primaryKey"] = device.PrimaryKey, ["secondaryKey"] = device.SecondaryKey },
            ["x509Thumbprint"] = new JsonObject { ["primaryThumbprint"] = device.PrimaryThumbprint, ["secondaryThumbprint"] = device.SecondaryThumbprint },
            ["type"] = device.AuthenticationType,
        },
        ["capabilities"] = new JsonObject { ["iotEdge"] = device.IotEdge },
    };

    private static string GenerationId(HubDeviceEntity device) => (device.Created.UtcTicks % 1_000_000_000_000_000_000L).ToString("D18", CultureInfo.InvariantCulture);

    /// <summary>Finds the hub named by the token and checks the token against that hub's policies.</summary>
    internal static (string? HubName, IResult? Refusal) Authorize(HttpContext http, EmulatorContext context, bool write = false) =>
        Authorize(http, context, write ? ["RegistryWrite"] : ["RegistryRead", "RegistryWrite"], write ? "changing the device registry" : "reading the device registry");

    /// <summary>As above, for a call that needs one of <paramref name="anyOf"/> (e.g. ServiceConnect for twins and methods).</summary>
    internal static (string? HubName, IResult? Refusal) Authorize(HttpContext http, EmulatorContext context, string[] anyOf, string what)
    {
        var (hubName, refusal) = Hub.HubServiceAuthorization.Check(context, http.Request.Headers.Authorization.FirstOrDefault(), anyOf, what);
        return refusal is null ? (hubName, null) : (null, Unauthorized(http, refusal));
    }

    private static IResult Unauthorized(HttpContext http, string detail) =>
        HubError(http, 401, "IotHubUnauthorizedAccess", $"Unauthorized: {detail}.");

    private static IResult NotFound(HttpContext http, string hub, string deviceId) =>
        HubError(http, 404, "DeviceNotFound", $"Device {deviceId} not registered in IoT hub {hub}.");

    /// <summary>IoT Hub's error shape: {"Message":"ErrorCode:{code};{text}","ExceptionMessage":"Tracking ID:..."}.</summary>
    internal static IResult HubError(HttpContext http, int status, string code, string message)
    {
        http.Response.Headers["iothub-errorcode"] = code;
        return Results.Json(new JsonObject
        {
            ["Message"] = $"ErrorCode:{code};{message}",
            ["ExceptionMessage"] = $"Tracking ID:{Guid.NewGuid():N}-G:0-TimeStamp:{DateTime.UtcNow.ToString("MM/dd/yyyy HH:mm:ss", CultureInfo.InvariantCulture)}",
        }, statusCode: status);
    }
}
