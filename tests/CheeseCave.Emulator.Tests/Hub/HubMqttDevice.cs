using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using CheeseCave.Emulator.Tests.Device;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace CheeseCave.Emulator.Tests.Hub;

/// <summary>
/// An IoT Hub device over MQTT 3.1.1 as the official SDKs behave: client id = device id, user name
/// "{hub}/{deviceId}/?api-version=2021-04-12", X.509 client certificate with its chain on the emulator's MQTT port.
/// </summary>
internal sealed class HubMqttDevice : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly Channel<(string Topic, byte[] Payload)> _received = Channel.CreateUnbounded<(string, byte[])>();

    private HubMqttDevice(IMqttClient client, string deviceId)
    {
        _client = client;
        DeviceId = deviceId;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Writer.TryWrite((e.ApplicationMessage.Topic, System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload)));
            return Task.CompletedTask;
        };
    }

    public string DeviceId { get; }

    /// <summary>Connects as <paramref name="deviceId"/> (the certificate's CN by default); throws with the CONNACK code when refused.</summary>
    public static async Task<HubMqttDevice> ConnectAsync(DeviceTestEnvironment env, DeviceIdentity identity, string hub = "cave-hub", string? deviceId = null, bool overWebSocket = false)
    {
        deviceId ??= identity.RegistrationId;
        var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder();
        if (overWebSocket)
        {
            // The WebSocket client sends the leaf only: enough for a thumbprint identity.
            var ca = env.Harness.Server.Context.Tls.CaCertificate;
            builder = builder
                .WithWebSocketServer(o => o.WithUri($"wss://localhost:{env.Harness.Server.HttpsPort}/$iothub/websocket"))
                .WithTlsOptions(o => o
                    .UseTls()
                    .WithClientCertificates([identity.Certificate])
                    .WithCertificateValidationHandler(e => e.Certificate is { } certificate && TrustedBy(ca, certificate)));
        }
        else
        {
            builder = builder.WithTcpServer("localhost", env.Harness.Server.MqttPort!.Value);
        }

        var options = builder
            .WithClientId(deviceId)
            .WithCredentials($"{DeviceTestEnvironment.HubHost(hub)}/{deviceId}/?api-version=2021-04-12&DeviceClientType=cheesecave-tests", (string?)null)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession()
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        if (!overWebSocket)
        {
            ((MqttClientTcpOptions)options.ChannelOptions).StreamProvider = new DpsMqttDevice.TlsWithChain(identity, env.Harness.Server.Context.Tls.CaCertificate);
        }

        try
        {
            var connected = await client.ConnectAsync(options);
            if (connected.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw new InvalidOperationException($"CONNACK {connected.ResultCode}");
            }
        }
        catch
        {
            client.Dispose();
            throw;
        }

        return new HubMqttDevice(client, deviceId);
    }

    public Task SubscribeAsync(string topic) =>
        _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build());

    public Task PublishAsync(string topic, string payload) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    /// <summary>The next message whose topic matches <paramref name="pattern"/> (others are skipped), within 15 s.</summary>
    public async Task<(Match Topic, string Payload)> ReceiveAsync(string pattern)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var (topic, payload) = await _received.Reader.ReadAsync(timeout.Token);
            var match = Regex.Match(topic, pattern);
            if (match.Success) return (match, System.Text.Encoding.UTF8.GetString(payload));
        }
    }

    /// <summary>A twin request with a fresh $rid, and its answer: status, the answer topic's query and body.</summary>
    public async Task<(int Status, string Query, JsonNode? Body)> TwinAsync(string topic, string payload)
    {
        var rid = Guid.NewGuid().ToString("N");
        await PublishAsync($"{topic}?$rid={rid}", payload);
        var (match, body) = await ReceiveAsync(@"^\$iothub/twin/res/(\d+)/\?(.*\$rid=" + rid + ".*)$");
        return (int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups[2].Value, body.Length == 0 ? null : JsonNode.Parse(body));
    }

    public bool IsConnected => _client.IsConnected;

    public static bool TrustedBy(System.Security.Cryptography.X509Certificates.X509Certificate2 ca, System.Security.Cryptography.X509Certificates.X509Certificate certificate)
    {
        using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
        chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
        return chain.Build(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected) await _client.DisconnectAsync();
        _client.Dispose();
    }
}
