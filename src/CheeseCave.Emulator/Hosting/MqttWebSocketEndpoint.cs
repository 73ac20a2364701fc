using System.Net;
using CheeseCave.Emulator.Device;

namespace CheeseCave.Emulator.Hosting;

/// <summary>The running MQTT broker, once it has started (the HTTPS endpoint starts first).</summary>
internal sealed class MqttWebSocketBridge
{
    private volatile MqttDeviceServer? _server;

    public MqttDeviceServer? Server
    {
        get => _server;
        set => _server = value;
    }
}

/// <summary>
/// MQTT over WebSockets at /$iothub/websocket on the HTTPS port, as IoT Hub and DPS offer it on 443: a WebSocket
/// upgrade asking for subprotocol "mqtt" joins the same broker as the MQTT port (DPS or hub by the CONNECT user
/// name), with the client certificate chain of this TLS connection; anything else is 400.
/// </summary>
internal static class MqttWebSocketEndpoint
{
    public const string Path = "/$iothub/websocket";
    private const string SubProtocol = "mqtt";

    public static WebApplication MapMqttWebSocket(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var bridge = app.Services.GetRequiredService<MqttWebSocketBridge>();
        app.Map(Path, async (HttpContext http) =>
        {
            if (!http.WebSockets.IsWebSocketRequest || !http.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol, StringComparer.OrdinalIgnoreCase))
            {
                return Results.Text($"{Path} serves MQTT over WebSockets: send a WebSocket upgrade with subprotocol '{SubProtocol}' (Sec-WebSocket-Protocol: mqtt).", statusCode: 400);
            }

            if (bridge.Server is not { } mqtt)
            {
                return Results.Text("MQTT is turned off in this emulator (--mqtt-port -1), so MQTT over WebSockets is too.", statusCode: 503);
            }

            using var socket = await http.WebSockets.AcceptWebSocketAsync(SubProtocol).ConfigureAwait(false);
            var remote = http.Connection.RemoteIpAddress is { } ip ? new IPEndPoint(ip, http.Connection.RemotePort) : null;
            await mqtt.RunWebSocketAsync(socket, remote, PeerCertificates.From(http)).ConfigureAwait(false);
            return Results.Empty;
        });
        return app;
    }
}
