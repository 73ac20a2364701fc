using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using CheeseCave.Emulator.Tests.Device;
using MQTTnet;
using MQTTnet.Channel;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace CheeseCave.Emulator.Tests.Hosting;

/// <summary>One DPS answer on $dps/registrations/res/{status}/?{query}.</summary>
internal sealed record MqttAnswer(int Status, string Query, JsonNode Body);

/// <summary>
/// A DPS device over MQTT (docs/azure-wire.md §6.4) that also reports when the server closes its connection, which
/// the dropped-connection fault needs. The TLS stream sends the leaf and its intermediates (docs/toolchain.md §8).
/// </summary>
internal sealed partial class MqttProbeDevice : IAsyncDisposable
{
    public const string RegisterTopic = "$dps/registrations/PUT/iotdps-register/";

    private readonly IMqttClient _client;
    private readonly Channel<(string Topic, string Payload)> _received = Channel.CreateUnbounded<(string, string)>();
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _receivedCount;

    private MqttProbeDevice(IMqttClient client, DeviceIdentity identity)
    {
        _client = client;
        Identity = identity;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            Interlocked.Increment(ref _receivedCount);
            _received.Writer.TryWrite((e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
        _client.DisconnectedAsync += _ =>
        {
            _disconnected.TrySetResult();
            return Task.CompletedTask;
        };
    }

    public DeviceIdentity Identity { get; }

    /// <summary>How many messages the server has sent this device so far.</summary>
    public int ReceivedCount => Volatile.Read(ref _receivedCount);

    /// <summary>Completes when the connection is gone (closed by the server or by this client).</summary>
    public Task Disconnected => _disconnected.Task;

    public static async Task<MqttProbeDevice> ConnectAsync(DeviceTestEnvironment env, DeviceIdentity identity)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", env.Harness.Server.MqttPort!.Value)
            .WithClientId(identity.RegistrationId)
            .WithCredentials($"{env.IdScope}/registrations/{identity.RegistrationId}/api-version=2019-03-31&ClientVersion=azure-iot-provisioning-device%2F1.9.1", (string?)null)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession()
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        ((MqttClientTcpOptions)options.ChannelOptions).StreamProvider = new TlsWithChain(identity, env.Harness.Server.Context.Tls.CaCertificate);
        var device = new MqttProbeDevice(client, identity);
        try
        {
            var connected = await client.ConnectAsync(options);
            Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("$dps/registrations/res/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }
        catch
        {
            client.Dispose();
            throw;
        }

        return device;
    }

    /// <summary>Publishes a register request with a new $rid; returns that $rid.</summary>
    public async Task<string> PublishRegisterAsync()
    {
        var rid = Guid.NewGuid().ToString();
        await _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"{RegisterTopic}?$rid={rid}")
            .WithPayload($"{{\"registrationId\":\"{Identity.RegistrationId}\"}}")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        return rid;
    }

    /// <summary>Waits for the answer with this $rid; null if the connection closed first.</summary>
    public async Task<MqttAnswer?> AnswerAsync(string rid, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            var read = _received.Reader.ReadAsync(cancel.Token).AsTask();
            if (await Task.WhenAny(read, Disconnected) != read && !read.IsCompleted)
            {
                return null;
            }

            var (topic, payload) = await read;
            var match = ResponseTopic().Match(topic);
            Assert.True(match.Success, $"unexpected topic {topic}");
            if (!match.Groups[2].Value.Contains($"$rid={rid}", StringComparison.Ordinal)) continue;
            return new MqttAnswer(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), match.Groups[2].Value, JsonNode.Parse(payload)!);
        }
    }

    public async Task<MqttAnswer> RegisterAsync()
    {
        var rid = await PublishRegisterAsync();
        return await AnswerAsync(rid, TimeSpan.FromSeconds(15)) ?? throw new InvalidOperationException("The server closed the MQTT connection without answering.");
    }

    [GeneratedRegex(@"^\$dps/registrations/res/(\d+)/\?(.*)$")]
    private static partial Regex ResponseTopic();

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync();
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException)
            {
                // closed by the server meanwhile
            }
        }

        _client.Dispose();
    }

    private sealed class TlsWithChain(DeviceIdentity identity, X509Certificate2 trustedCa) : IMqttClientStreamProvider
    {
        public async Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
        {
            var (host, port) = brokerEndPoint switch
            {
                DnsEndPoint dns => (dns.Host, dns.Port),
                IPEndPoint ip => (ip.Address.ToString(), ip.Port),
                _ => throw new NotSupportedException(brokerEndPoint.ToString()),
            };
            var tcp = new TcpClient();
            await tcp.ConnectAsync(host, port, cancellationToken);
            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                ClientCertificateContext = SslStreamCertificateContext.Create(identity.Certificate, [.. identity.Intermediates], offline: true),
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (certificate is null) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(trustedCa);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                },
            }, cancellationToken);
            return ssl;
        }
    }
}
