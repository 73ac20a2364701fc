using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Channel;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace CheeseCave.Emulator.Tests.Device;

/// <summary>DPS registration over MQTT with the MQTTnet client, on the emulator's own TLS port.</summary>
public sealed class MqttRegistrationTests
{
    [Fact]
    public async Task A_device_registers_over_MQTT_with_its_chain_and_polls_the_operation()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        await using var device = await DpsMqttDevice.ConnectAsync(env, pki.IssueDevice("gouda-001"));

        var (status, query, body) = await device.RequestAsync("$dps/registrations/PUT/iotdps-register/", "{\"registrationId\":\"gouda-001\"}");

        Assert.Equal(200, status);
        Assert.Equal("assigned", body.Str("status"));
        Assert.Equal("cave-hub.azure-devices.net", body.Str("registrationState", "assignedHub"));
        Assert.DoesNotContain("retry-after", query, StringComparison.Ordinal);
        Assert.NotNull(env.HubDevice("cave-hub", "gouda-001"));

        var (pollStatus, _, polled) = await device.RequestAsync("$dps/registrations/GET/iotdps-get-operationstatus/", " ", "&operationId=" + body.Str("operationId"));
        Assert.Equal(200, pollStatus);
        Assert.Equal(body.ToJsonString(), polled.ToJsonString());
    }

    [Fact]
    public async Task A_reconnecting_device_still_presents_its_intermediates()
    {
        // Regression: a resumed TLS session carries the leaf but not the intermediates the device sent.
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var identity = pki.IssueDevice("gouda-002");
        for (var attempt = 0; attempt < 2; attempt++)
        {
            await using var device = await DpsMqttDevice.ConnectAsync(env, identity);
            var (status, _, body) = await device.RequestAsync("$dps/registrations/PUT/iotdps-register/", "{\"registrationId\":\"gouda-002\"}");
            Assert.True(status == 200, body.ToJsonString());
        }
    }

    [Fact]
    public async Task A_device_of_an_unknown_CA_gets_a_JSON_error_on_res_401()
    {
        using var pki = new TestPki();
        using var stranger = new TestPki("Stranger");
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        await using var device = await DpsMqttDevice.ConnectAsync(env, stranger.IssueDevice("edam-001"));

        var (status, _, body) = await device.RequestAsync("$dps/registrations/PUT/iotdps-register/", "{\"registrationId\":\"edam-001\"}");

        Assert.Equal(401, status);
        Assert.Equal(401002, body["errorCode"]!.GetValue<int>());
        Assert.Equal("missingChainElements", body.Str("info", "reason"));
        Assert.Equal(stranger.Root.Certificate.Subject, body.Str("info", "missing"));
        Assert.Null(env.Registration("edam-001"));
    }

    [Fact]
    public async Task A_connect_whose_client_id_is_not_the_registration_id_is_refused()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => DpsMqttDevice.ConnectAsync(env, pki.IssueDevice("feta-001"), clientId: "someone-else"));
        Assert.Contains("ClientIdentifierNotValid", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Injected_throttling_answers_429_with_retry_after()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync(configure: o => { o.Faults.Device.ThrottleRate = 1; o.Faults.Device.RetryAfterSeconds = 3; });
        await using var device = await DpsMqttDevice.ConnectAsync(env, pki.IssueDevice("brie-429"));

        var (status, query, body) = await device.RequestAsync("$dps/registrations/PUT/iotdps-register/", "{}");

        Assert.Equal(429, status);
        Assert.Contains("retry-after=3", query, StringComparison.Ordinal);
        Assert.Equal(429001, body["errorCode"]!.GetValue<int>());
    }
}

/// <summary>
/// A DPS device over MQTT as the Node SDK behaves (docs/azure-wire.md §6.4). MQTTnet's client TLS sends only the leaf,
/// so the TLS stream is made here with a certificate context that also sends the intermediates.
/// </summary>
internal sealed class DpsMqttDevice : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly Channel<(string Topic, string Payload)> _received = Channel.CreateUnbounded<(string, string)>();

    private DpsMqttDevice(IMqttClient client)
    {
        _client = client;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Writer.TryWrite((e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
    }

    public static async Task<DpsMqttDevice> ConnectAsync(DeviceTestEnvironment env, DeviceIdentity identity, string? clientId = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", env.Harness.Server.MqttPort!.Value)
            .WithClientId(clientId ?? identity.RegistrationId)
            .WithCredentials($"{env.IdScope}/registrations/{identity.RegistrationId}/api-version=2019-03-31&ClientVersion=azure-iot-provisioning-device%2F1.9.1", (string?)null)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession()
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        ((MqttClientTcpOptions)options.ChannelOptions).StreamProvider = new TlsWithChain(identity, env.Harness.Server.Context.Tls.CaCertificate);
        var device = new DpsMqttDevice(client);
        try
        {
            var connected = await client.ConnectAsync(options);
            if (connected.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw new InvalidOperationException($"CONNACK {connected.ResultCode}: {connected.ReasonString}");
            }

            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("$dps/registrations/res/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }
        catch
        {
            client.Dispose();
            throw;
        }

        return device;
    }

    /// <summary>Publishes with a fresh $rid and waits for the answer with the same $rid.</summary>
    public async Task<(int Status, string Query, JsonNode Body)> RequestAsync(string topic, string payload, string extraQuery = "")
    {
        var rid = Guid.NewGuid().ToString();
        await _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"{topic}?$rid={rid}{extraQuery}")
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var (responseTopic, body) = await _received.Reader.ReadAsync(timeout.Token);
            var match = System.Text.RegularExpressions.Regex.Match(responseTopic, @"^\$dps/registrations/res/(\d+)/\?(.*)$");
            Assert.True(match.Success, $"unexpected topic {responseTopic}");
            if (!match.Groups[2].Value.Contains($"$rid={rid}", StringComparison.Ordinal)) continue;
            return (int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups[2].Value, JsonNode.Parse(body)!);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected) await _client.DisconnectAsync();
        _client.Dispose();
    }

    internal sealed class TlsWithChain(DeviceIdentity identity, X509Certificate2 trustedCa) : IMqttClientStreamProvider
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
