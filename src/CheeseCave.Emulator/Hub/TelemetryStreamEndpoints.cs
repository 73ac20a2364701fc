using System.Buffers;
using System.Globalization;
using System.Text.Json;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;
using Microsoft.AspNetCore.Http.Features;

namespace CheeseCave.Emulator.Hub;

/// <summary>
/// Ours, not Azure's (Azure's services read telemetry from the Event Hubs-compatible endpoint over AMQP): a
/// server-sent event stream of the telemetry of a hub (<c>GET /messages/events/stream</c>) or of one device
/// (<c>GET /devices/{id}/messages/events/stream</c>). Each message is one event whose <c>id</c> is its sequence
/// number and whose <c>data</c> is the same JSON as <c>GET /messages/events</c> returns. The stream starts after
/// <c>?after=N</c>, or after the <c>Last-Event-ID</c> header a reconnecting client sends, or at the newest message;
/// messages come in sequence order (so each device's in the order it sent them); a comment line every 15 s keeps an
/// idle stream open. A jump in sequence numbers means the reader fell more than the hub's retention behind.
/// </summary>
internal static class TelemetryStreamEndpoints
{
    private const int Batch = 500;
    private static readonly string[] ServiceConnect = ["ServiceConnect"];
    private static readonly TimeSpan KeepAliveEvery = TimeSpan.FromSeconds(15);

    public static WebApplication MapTelemetryStream(this WebApplication app, EmulatorContext context)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/messages/events/stream", (HttpContext http, long? after) => StreamAsync(http, context, null, after));
        app.MapGet("/devices/{deviceId}/messages/events/stream", (HttpContext http, string deviceId, long? after) => StreamAsync(http, context, deviceId, after));
        return app;
    }

    private static async Task StreamAsync(HttpContext http, EmulatorContext context, string? deviceId, long? after)
    {
        var (hubName, refusal) = HubRegistryEndpoints.Authorize(http, context, ServiceConnect, "reading telemetry");
        if (refusal is null && deviceId is not null && context.Store.HubDevices.Get(ArmKeys.HubDevice(hubName!, deviceId)) is null)
        {
            refusal = HubRegistryEndpoints.HubError(http, 404, "DeviceNotFound", $"Device {deviceId} not registered in IoT hub {hubName}.");
        }

        var validStart = TryStart(http, after, out var position);
        if (refusal is null && !validStart)
        {
            refusal = HubRegistryEndpoints.HubError(http, 400, "ArgumentInvalid", "Last-Event-ID must be a sequence number from this stream; leave it out to start at the newest message.");
        }

        if (refusal is not null)
        {
            await refusal.ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        var telemetry = context.Hub.Telemetry;
        position = position < 0 ? telemetry.LastSequence(hubName!) : position;
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        // Ends with the request or with the emulator, so an open stream never holds up a shutdown.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(
            http.RequestAborted, http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        var aborted = ended.Token;
        var body = response.BodyWriter;
        await using var json = new Utf8JsonWriter(body);
        try
        {
            await response.StartAsync(aborted).ConfigureAwait(false);
            while (!aborted.IsCancellationRequested)
            {
                var (messages, through) = telemetry.ReadPage(hubName!, deviceId, position, Batch);
                position = through;
                foreach (var message in messages)
                {
                    WriteEvent(body, json, message);
                }

                if (messages.Count > 0)
                {
                    await body.FlushAsync(aborted).ConfigureAwait(false);
                    continue;
                }

                try
                {
                    await telemetry.WaitAsync(hubName!, position, aborted).WaitAsync(KeepAliveEvery, aborted).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    body.Write(": keep-alive\n\n"u8);
                    await body.FlushAsync(aborted).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // the reader went away
        }
    }

    /// <summary>Where the stream starts: Last-Event-ID (a reconnect) first, then ?after=, else -1 for "the newest".</summary>
    private static bool TryStart(HttpContext http, long? after, out long position)
    {
        var lastEventId = http.Request.Headers["Last-Event-ID"].ToString();
        if (lastEventId.Length > 0)
        {
            return long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out position);
        }

        position = after is { } given ? Math.Max(0, given) : -1;
        return true;
    }

    private static void WriteEvent(System.IO.Pipelines.PipeWriter body, Utf8JsonWriter json, TelemetryMessage message)
    {
        body.Write("id: "u8);
        var span = body.GetSpan(20);
        message.SequenceNumber.TryFormat(span, out var written, provider: CultureInfo.InvariantCulture);
        body.Advance(written);
        body.Write("\ndata: "u8);
        json.Reset();
        TelemetryJsonWriter.Write(json, message);
        json.Flush();
        body.Write("\n\n"u8);
    }
}
