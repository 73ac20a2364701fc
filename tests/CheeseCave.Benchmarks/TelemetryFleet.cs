using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MQTTnet;
using MQTTnet.Channel;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace CheeseCave.Benchmarks;

/// <summary>
/// The connected devices of the telemetry benchmark: each one its own MQTTnet client over its own TLS connection
/// with its own client certificate (leaf + intermediate), connected to the hub as the device SDKs do (client id =
/// device id, user name "{hub}/{deviceId}/?api-version=..."), then sending telemetry on a schedule.
/// </summary>
internal sealed class TelemetryFleet(int mqttPort, X509Certificate2 trustedCa, string hubHostName) : IAsyncDisposable
{
    private const string EventsSuffix = "/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8";
    private readonly List<Device> _devices = [];
    private readonly X509ChainPolicy _trust = new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        CustomTrustStore = { trustedCa },
        RevocationMode = X509RevocationMode.NoCheck,
        DisableCertificateDownloads = true,
    };

    private readonly int _mqttPort = mqttPort;

    public int Count => _devices.Count;


    public int PublishErrors;

    /// <summary>Connects every device, <paramref name="concurrency"/> at a time; returns how many were refused or failed.</summary>
    public async Task<int> ConnectAsync(IReadOnlyList<DeviceCredential> credentials, int concurrency)
    {
        var failures = 0;
        var next = -1;
        var connected = new Device?[credentials.Count];
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < credentials.Count)
            {
                try
                {
                    connected[i] = await ConnectOneAsync(i, credentials[i]);
                }
                catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException or MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })));
        _devices.AddRange(connected.OfType<Device>());
        return failures;
    }

    private async Task<Device> ConnectOneAsync(int index, DeviceCredential credential)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", _mqttPort)
            .WithClientId(credential.RegistrationId)
            .WithCredentials($"{hubHostName}/{credential.RegistrationId}/?api-version=2021-04-12&DeviceClientType=cheesecave-benchmark", (string?)null)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession()
            .WithKeepAlivePeriod(TimeSpan.FromMinutes(4))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        ((MqttClientTcpOptions)options.ChannelOptions).StreamProvider = new TlsStreamProvider(this, credential);
        try
        {
            var result = await client.ConnectAsync(options);
            if (result.ResultCode != MqttClientConnectResultCode.Success) throw new IOException($"CONNACK {result.ResultCode}");
            return new Device(index, credential.RegistrationId, client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Every device sends <paramref name="perDevice"/> messages, device d's k-th at start + (k + d/D) / (rate/D)
    /// seconds, so the fleet sends <paramref name="rate"/> messages per second spread evenly. A device sends its
    /// messages one after the other (QoS 1 waits for the PUBACK, as the SDKs do), so its order is its sending order.
    /// The body carries the run, the device's index and counter and the send time (Stopwatch ticks).
    /// </summary>
    public async Task SendAsync(int run, int perDevice, double rate, MqttQualityOfServiceLevel qos)
    {
        var perDeviceRate = rate / _devices.Count;
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(_devices.Select(device => Task.Run(async () =>
        {
            var topic = "devices/" + device.Id + EventsSuffix;
            for (var k = 0; k < perDevice; k++)
            {
                var due = start + (long)((k + ((double)device.Index / _devices.Count)) / perDeviceRate * Stopwatch.Frequency);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > Stopwatch.Frequency / 1000) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
                var counter = device.Next++;
                var sent = Stopwatch.GetTimestamp();
                var body = string.Create(CultureInfo.InvariantCulture, $"{{\"temperature\":{11 + (counter % 30 / 10.0)},\"humidity\":{90 + (counter % 7)},\"r\":{run},\"d\":{device.Index},\"n\":{counter},\"sent\":{sent}}}");
                try
                {
                    var result = await device.Client.PublishAsync(new MqttApplicationMessageBuilder()
                        .WithTopic(topic)
                        .WithPayload(Encoding.UTF8.GetBytes(body))
                        .WithQualityOfServiceLevel(qos)
                        .Build());
                    if (!result.IsSuccess) Interlocked.Increment(ref PublishErrors);
                }
                catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or IOException)
                {
                    Interlocked.Increment(ref PublishErrors);
                }
            }
        })));
    }

    /// <summary>The counter each device's next message will carry (the reader checks each device's order with it).</summary>
    public long[] NextCounters() => _devices.OrderBy(d => d.Index).Select(d => d.Next).ToArray();

    public int Connected => _devices.Count(d => d.Client.IsConnected);

    public async ValueTask DisposeAsync()
    {
        foreach (var device in _devices)
        {
            try
            {
                if (device.Client.IsConnected) await device.Client.DisconnectAsync();
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException)
            {
            }

            device.Client.Dispose();
        }
    }

    private sealed class Device(int index, string id, IMqttClient client)
    {
        public int Index { get; } = index;

        public string Id { get; } = id;

        public IMqttClient Client { get; } = client;

        public long Next;
    }

    /// <summary>TLS with the device's certificate context (leaf + intermediate), trusting only the emulator's CA.</summary>
    private sealed class TlsStreamProvider(TelemetryFleet fleet, DeviceCredential device) : IMqttClientStreamProvider
    {
        public async Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, fleet._mqttPort, cancellationToken);
                var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    ClientCertificateContext = device.Context,
                    CertificateChainPolicy = fleet._trust,
                }, cancellationToken);
                return ssl;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }
}
