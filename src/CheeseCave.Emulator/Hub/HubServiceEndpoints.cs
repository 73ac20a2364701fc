using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Hub;

/// <summary>
/// The hub's service API for the device data plane, on the emulator's HTTPS endpoint and authorised with the hub's
/// shared access policies like the registry: Azure's GET and PATCH /twins/{id} and POST /twins/{id}/methods, and two
/// of our own (Azure uses AMQP and Event Hubs for these): POST /devices/{id}/messages/deviceBound to send a
/// cloud-to-device message and GET /devices/{id}/messages/events (or /messages/events for the whole hub) to read
/// the telemetry devices sent. See src/CheeseCave.Emulator/README.md.
/// </summary>
internal static class HubServiceEndpoints
{
    private static readonly string[] ServiceConnect = ["ServiceConnect"];
    private static readonly string[] TwinRead = ["RegistryRead", "RegistryWrite", "ServiceConnect"];
    private const int DefaultMethodTimeoutSeconds = 30;
    private const int MaxMethodTimeoutSeconds = 300;
    private const int MaxMessageBytes = 64 * 1024;

    public static WebApplication MapHubServiceEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var context = app.Services.GetRequiredService<EmulatorContext>();
        var hub = context.Hub;

        app.MapGet("/twins/{deviceId}", (HttpContext http, string deviceId) =>
        {
            var (hubName, refusal) = HubRegistryEndpoints.Authorize(http, context, TwinRead, "reading a twin");
            if (refusal is not null) return refusal;
            return Device(context, hubName!, deviceId) is { } device
                ? Results.Json(TwinJson.Service(device, hub.Connections.StateOf(hubName!, deviceId)))
                : NotFound(http, hubName!, deviceId);
        });

        app.MapMethods("/twins/{deviceId}", ["PATCH"], async (HttpContext http, string deviceId) =>
        {
            var (hubName, refusal) = HubRegistryEndpoints.Authorize(http, context, ServiceConnect, "updating a twin");
            if (refusal is not null) return refusal;
            var (body, invalid) = await ReadObjectAsync(http, "a twin patch").ConfigureAwait(false);
            if (invalid is not null) return invalid;
            var change = await hub.Twins.UpdateAsync(hubName!, deviceId, body!, http.Request.Headers.IfMatch.ToString()).ConfigureAwait(false);
            return change.Device is { } device
                ? Results.Json(TwinJson.Service(device, hub.Connections.StateOf(hubName!, deviceId)))
                : HubRegistryEndpoints.HubError(http, change.Status, change.ErrorCode!, change.Message!);
        });

        app.MapPost("/twins/{deviceId}/methods", async (HttpContext http, string deviceId) =>
        {
            var (hubName, refusal) = HubRegistryEndpoints.Authorize(http, context, ServiceConnect, "invoking a direct method");
            if (refusal is not null) return refusal;
            var (body, invalid) = await ReadObjectAsync(http, "a method call {\"methodName\", \"payload\", \"responseTimeoutInSeconds\"}").ConfigureAwait(false);
            if (invalid is not null) return invalid;
            if (body!["methodName"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var methodName) || methodName.Length == 0 || methodName.Contains('/', StringComparison.Ordinal))
            {
                return HubRegistryEndpoints.HubError(http, 400, "ArgumentInvalid", "methodName is required: a name without '/'.");
            }

            var seconds = body["responseTimeoutInSeconds"] is JsonValue t && t.TryGetValue<int>(out var given) ? given : DefaultMethodTimeoutSeconds;
            if (seconds is < 5 or > MaxMethodTimeoutSeconds)
            {
                return HubRegistryEndpoints.HubError(http, 400, "ArgumentInvalid", $"responseTimeoutInSeconds must be between 5 and {MaxMethodTimeoutSeconds}.");
            }

            if (Device(context, hubName!, deviceId) is null) return NotFound(http, hubName!, deviceId);
            var outcome = await hub.Methods.InvokeAsync(hubName!, deviceId, methodName, body["payload"], TimeSpan.FromSeconds(seconds), http.RequestAborted).ConfigureAwait(false);
            return outcome.Answered
                ? Results.Json(new JsonObject { ["status"] = outcome.Status, ["payload"] = outcome.Payload })
                : MethodError(http, outcome, context.Time.GetUtcNow());
        });

        // Ours: Azure sends cloud-to-device messages over AMQP only.
        app.MapPost("/devices/{deviceId}/messages/deviceBound", async (HttpContext http, string deviceId) =>
        {
            var (hubName, refusal) = HubRegistryEndpoints.Authorize(http, context, ServiceConnect, "sending a cloud-to-device message");
            if (refusal is not null) return refusal;
            if (Device(context, hubName!, deviceId) is null) return NotFound(http, hubName!, deviceId);
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted).ConfigureAwait(false);
            if (buffer.Length > MaxMessageBytes)
            {
                return HubRegistryEndpoints.HubError(http, 413, "MessageTooLarge", $"A cloud-to-device message may carry at most {MaxMessageBytes} bytes.");
            }

            var properties = http.Request.Headers
                .Where(h => h.Key.StartsWith("iothub-app-", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(h => h.Key["iothub-app-".Length..], h => h.Value.ToString(), StringComparer.Ordinal);
            var messageId = http.Request.Headers["iothub-messageid"].FirstOrDefault() ?? Guid.NewGuid().ToString();
            var correlationId = http.Request.Headers["iothub-correlationid"].FirstOrDefault();
            var message = new CloudToDeviceMessage(messageId, buffer.ToArray(), properties, correlationId, context.Time.GetUtcNow());
            if (!await hub.CloudToDevice.SendAsync(hubName!, deviceId, message).ConfigureAwait(false))
            {
                return HubRegistryEndpoints.HubError(http, 403, "DeviceMaximumQueueDepthExceeded",
                    $"Device {deviceId} already has {CloudToDeviceQueue.MaxQueuedPerDevice} cloud-to-device messages waiting; connect it so it receives them, then send again.");
            }

            return Results.Json(new JsonObject { ["messageId"] = messageId }, statusCode: 202);
        });

        // Ours: Azure's services read telemetry from the Event Hubs-compatible endpoint (AMQP).
        app.MapGet("/devices/{deviceId}/messages/events", (HttpContext http, string deviceId, long? after, int? top) =>
            ReadTelemetry(http, context, deviceId, after, top));
        app.MapGet("/messages/events", (HttpContext http, long? after, int? top) =>
            ReadTelemetry(http, context, null, after, top));
        app.MapTelemetryStream(context);
        return app;
    }

    private static IResult ReadTelemetry(HttpContext http, EmulatorContext context, string? deviceId, long? after, int? top)
    {
        var (hubName, refusal) = HubRegistryEndpoints.Authorize(http, context, ServiceConnect, "reading telemetry");
        if (refusal is not null) return refusal;
        if (deviceId is not null && Device(context, hubName!, deviceId) is null) return NotFound(http, hubName!, deviceId);
        var count = Math.Clamp(top ?? 100, 1, 1000);
        var messages = after is { } sequence
            ? context.Hub.Telemetry.Read(hubName!, deviceId, sequence, count)
            : context.Hub.Telemetry.Latest(hubName!, deviceId, count);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var message in messages)
            {
                TelemetryJsonWriter.Write(json, message);
            }

            json.WriteEndArray();
        }

        return Results.Bytes(buffer.WrittenMemory.ToArray(), "application/json; charset=utf-8");
    }

    private static HubDeviceEntity? Device(EmulatorContext context, string hubName, string deviceId) =>
        context.Store.HubDevices.Get(ArmKeys.HubDevice(hubName, deviceId));

    private static IResult NotFound(HttpContext http, string hub, string deviceId) =>
        HubRegistryEndpoints.HubError(http, 404, "DeviceNotFound", $"Device {deviceId} not registered in IoT hub {hub}.");

    private static async Task<(JsonObject? Body, IResult? Invalid)> ReadObjectAsync(HttpContext http, string what)
    {
        try
        {
            if (await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted).ConfigureAwait(false) is JsonObject body)
            {
                return (body, null);
            }
        }
        catch (JsonException)
        {
        }

        return (null, HubRegistryEndpoints.HubError(http, 400, "ArgumentInvalid", $"The request body must be {what} as a JSON object."));
    }

    /// <summary>
    /// IoT Hub's method errors: the numeric code and message are JSON inside "Message"
    /// ({"errorCode":404103,"message":..,"info":{},"timestampUtc":..}), which the SDKs read.
    /// </summary>
    private static IResult MethodError(HttpContext http, MethodOutcome outcome, DateTimeOffset now)
    {
        var inner = new JsonObject
        {
            ["errorCode"] = outcome.ErrorCode,
            ["trackingId"] = Guid.NewGuid().ToString("N"),
            ["message"] = outcome.Message,
            ["info"] = new JsonObject(),
            ["timestampUtc"] = RegistrationJson.Timestamp(now),
        };
        http.Response.Headers["iothub-errorcode"] = outcome.ErrorName;
        return Results.Json(new JsonObject
        {
            ["Message"] = inner.ToJsonString(),
            ["ExceptionMessage"] = string.Empty,
        }, statusCode: outcome.Status);
    }
}
