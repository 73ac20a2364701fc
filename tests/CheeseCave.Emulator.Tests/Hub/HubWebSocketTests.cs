using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Tests.Device;

namespace CheeseCave.Emulator.Tests.Hub;

/// <summary>MQTT over WebSockets at /$iothub/websocket on the HTTPS port, as IoT Hub offers it on 443.</summary>
public sealed class HubWebSocketTests
{
    [Fact]
    public async Task A_device_connects_over_a_WebSocket_and_its_telemetry_reaches_the_hub()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        var identity = await HubTestKit.ProvisionAsync(env, pki, "cave-ws-1");
        await using var device = await HubMqttDevice.ConnectAsync(env, identity, overWebSocket: true);
        await device.PublishAsync("devices/cave-ws-1/messages/events/", "{\"temperature\":12}");
        using var service = env.HubClient("cave-hub");
        var messages = await HubTestKit.UntilAsync(async () => (await HubTestKit.SendAsync(service, HttpMethod.Get, "/devices/cave-ws-1/messages/events")).Body, m => m.AsArray().Count == 1);
        Assert.Equal(12, messages[0]!["body"]!["temperature"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_device_with_another_certificate_is_not_authorized_over_a_WebSocket_either()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await HubTestKit.ProvisionAsync(env, pki, "cave-ws-2");
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () => await (await HubMqttDevice.ConnectAsync(env, pki.IssueDevice("cave-ws-2"), overWebSocket: true)).DisposeAsync());
        Assert.Contains("NotAuthorized", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_WebSocket_path_answers_400_without_the_mqtt_subprotocol()
    {
        await using var env = await DeviceTestEnvironment.StartAsync();
        using var plain = env.Harness.CreateClient(null);
        var response = await plain.GetAsync("/$iothub/websocket");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        using var socket = new ClientWebSocket();
        var ca = env.Harness.Server.Context.Tls.CaCertificate;
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && HubMqttDevice.TrustedBy(ca, certificate);
        socket.Options.AddSubProtocol("chat");
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"wss://localhost:{env.Harness.Server.HttpsPort}/$iothub/websocket"), CancellationToken.None));
        Assert.Contains("400", refused.Message + refused.InnerException?.Message, StringComparison.Ordinal);
    }
}
