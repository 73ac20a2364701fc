using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Pki;
using MQTTnet;
using MQTTnet.Channel;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace CheeseCave.Benchmarks;
internal interface IDeviceConnection : IAsyncDisposable
{
    /// <summary>Sends the register request; true when the device was assigned.</summary>
    Task<bool> RegisterAsync();
}

/// <summary>How devices reach the emulator: TLS with the device's certificate context, server certificate pinned.</summary>
internal sealed class RegistrationTarget(EmulatorServer server, string idScope, string transport)
{
    private readonly X509ChainPolicy _trust = new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        CustomTrustStore = { server.Context.Tls.CaCertificate },
        RevocationMode = X509RevocationMode.NoCheck,
        DisableCertificateDownloads = true,
    };

    public int MqttPort => server.MqttPort!.Value;

    public Task<IDeviceConnection> ConnectAsync(DeviceCredential device) =>
        transport == "mqtt" ? MqttConnectAsync(device) : HttpsConnectAsync(device);

    /// <summary>
    /// The device trusts only the emulator's CA (as a device given the trust bundle would) and checks the host
    /// name; the chain is built against that one root, offline, without the system trust store.
    /// </summary>
    private SslClientAuthenticationOptions TlsOptions(DeviceCredential device) => new()
    {
        TargetHost = "localhost",
        ClientCertificateContext = device.Context,
        CertificateChainPolicy = _trust,
    };

    private async Task<SslStream> TlsAsync(int port, DeviceCredential device)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await ssl.AuthenticateAsClientAsync(TlsOptions(device));
            return ssl;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<IDeviceConnection> HttpsConnectAsync(DeviceCredential device)
    {
        var ssl = await TlsAsync(server.HttpsPort, device);

        // The handler sends plain HTTP/1.1 over the TLS stream made above, so the handshake is timed on its own
        // and each device keeps its own connection (a shared pool could hand it another device's connection).
        var handed = 0;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectCallback = (_, _) => Interlocked.Exchange(ref handed, 1) == 0
                ? ValueTask.FromResult<Stream>(ssl)
                : ValueTask.FromException<Stream>(new IOException("The device's connection was closed.")),
        };
        return new HttpsConnection(new HttpClient(handler) { BaseAddress = new Uri($"http://localhost:{server.HttpsPort}") }, ssl, idScope, device.RegistrationId);
    }

    private async Task<IDeviceConnection> MqttConnectAsync(DeviceCredential device)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var connection = new MqttConnection(client, device.RegistrationId);
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", MqttPort)
            .WithClientId(device.RegistrationId)
            .WithCredentials($"{idScope}/registrations/{device.RegistrationId}/api-version={RegistrationBenchmark.ApiVersion}&ClientVersion=azure-iot-provisioning-device%2F1.9.1", (string?)null)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession()
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        ((MqttClientTcpOptions)options.ChannelOptions).StreamProvider = new StreamProvider(this, device);
        try
        {
            var connected = await client.ConnectAsync(options);
            if (connected.ResultCode != MqttClientConnectResultCode.Success) throw new IOException($"CONNACK {connected.ResultCode}");
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("$dps/registrations/res/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
            return connection;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private sealed class StreamProvider(RegistrationTarget target, DeviceCredential device) : IMqttClientStreamProvider
    {
        public async Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken) =>
            await target.TlsAsync(target.MqttPort, device);
    }
}

internal sealed class HttpsConnection(HttpClient client, SslStream ssl, string idScope, string registrationId) : IDeviceConnection
{
    private readonly byte[] _body = Encoding.UTF8.GetBytes($"{{\"registrationId\":\"{registrationId}\"}}");

    public async Task<bool> RegisterAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/{idScope}/registrations/{registrationId}/register?api-version={RegistrationBenchmark.ApiVersion}")
        {
            Content = new ByteArrayContent(_body) { Headers = { ContentType = new("application/json") { CharSet = "utf-8" } } },
        };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK && text.Contains("\"status\":\"assigned\"", StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await ssl.DisposeAsync();
    }
}

internal sealed class MqttConnection : IDeviceConnection
{
    private readonly IMqttClient _client;
    private readonly string _registrationId;
    private TaskCompletionSource<string>? _answer;

    public MqttConnection(IMqttClient client, string registrationId)
    {
        _client = client;
        _registrationId = registrationId;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            _answer?.TrySetResult(e.ApplicationMessage.Topic + "\n" + e.ApplicationMessage.ConvertPayloadToString());
            return Task.CompletedTask;
        };
    }

    public async Task<bool> RegisterAsync()
    {
        _answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"$dps/registrations/PUT/iotdps-register/?$rid={Guid.NewGuid()}")
            .WithPayload($"{{\"registrationId\":\"{_registrationId}\"}}")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        var answer = await _answer.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return answer.StartsWith("$dps/registrations/res/200/", StringComparison.Ordinal) && answer.Contains("\"status\":\"assigned\"", StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_client.IsConnected) await _client.DisconnectAsync();
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException)
        {
        }

        _client.Dispose();
    }
}
