using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using CheeseCave.Provisioning.DeviceRegistration;
using CheeseCave.Provisioning.DpsService;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.DeviceRegistration;

/// <summary>
/// Why the MQTT channel opens its own TLS stream: MQTTnet 5.2's TLS options take client certificates as a collection
/// (or a selection callback), and .NET then sends only the leaf, so DPS cannot build the chain.
/// </summary>
public sealed class MqttTlsTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private TestEmulator Emulator => fixture.Emulator;

    [Fact]
    public async Task MQTTnets_own_TLS_options_send_only_the_leaf_even_when_given_the_intermediate()
    {
        using var pki = new TestPki("MqttNet");
        var setup = await Emulator.SetUpCaveAsync(pki);
        using (var service = Emulator.Service(setup.ServiceConnectionString))
        {
            await service.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup { EnrollmentGroupId = "g", Attestation = AttestationMechanism.FromCaReferences("cave-root") });
        }

        var (leaf, chain) = pki.IssueDevice("mqttnet-tls-01");
        var hostPort = Emulator.Connection.MqttHost!.Split(':');
        var roots = Emulator.Connection.TrustedRoots!;
        using var client = new MqttClientFactory().CreateMqttClient();
        var received = Channel.CreateUnbounded<(string Topic, string Payload)>();
        client.ApplicationMessageReceivedAsync += e =>
        {
            received.Writer.TryWrite((e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(hostPort[0], int.Parse(hostPort[1], System.Globalization.CultureInfo.InvariantCulture))
            .WithClientId("mqttnet-tls-01")
            .WithCredentials($"{setup.IdScope}/registrations/mqttnet-tls-01/api-version={DeviceRegistrationClient.ApiVersion}", (string?)null)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithTlsOptions(tls => tls
                .UseTls()
                .WithTargetHost(hostPort[0])
                .WithClientCertificates(new X509Certificate2Collection { leaf, chain[0] })
                .WithCertificateValidationHandler(e =>
                {
                    using var custom = new X509Chain();
                    custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    custom.ChainPolicy.CustomTrustStore.AddRange(roots);
                    custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return custom.Build(X509CertificateLoader.LoadCertificate(e.Certificate.GetRawCertData()));
                }))
            .Build();
        await client.ConnectAsync(options);
        await client.SubscribeAsync("$dps/registrations/res/#", MqttQualityOfServiceLevel.AtLeastOnce);

        await client.PublishStringAsync("$dps/registrations/PUT/iotdps-register/?$rid=1", """{"registrationId":"mqttnet-tls-01"}""", MqttQualityOfServiceLevel.AtLeastOnce);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var (topic, payload) = await received.Reader.ReadAsync(timeout.Token);

        Assert.StartsWith("$dps/registrations/res/401/", topic, StringComparison.Ordinal);
        Assert.Equal("missingChainElements", JsonNode.Parse(payload)!["info"]!["reason"]!.GetValue<string>());

        // The provisioning client, with the same certificates, gets through.
        var result = await Emulator.Devices().RegisterOverMqttAsync(new DeviceRegistrationRequest(setup.IdScope, leaf, chain));
        Assert.True(result.IsAssigned);
    }

    [Fact]
    public async Task A_chain_that_includes_the_root_is_accepted_too()
    {
        using var pki = new TestPki("WithRoot");
        var setup = await Emulator.SetUpCaveAsync(pki);
        using (var service = Emulator.Service(setup.ServiceConnectionString))
        {
            await service.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup { EnrollmentGroupId = "g", Attestation = AttestationMechanism.FromCaReferences("cave-root") });
        }

        var (leaf, chain) = pki.IssueDevice("with-root-01");
        chain.Add(X509CertificateLoader.LoadCertificate(pki.Root.Certificate.RawData));

        var result = await Emulator.Devices().RegisterOverHttpsAsync(new DeviceRegistrationRequest(setup.IdScope, leaf, chain) { Payload = new JsonObject { ["shelf"] = 3 } });

        Assert.True(result.IsAssigned);
        Assert.Equal("with-root-01", result.RegistrationId);
        using (var service = Emulator.Service(setup.ServiceConnectionString))
        {
            var state = await service.GetDeviceRegistrationStateAsync("with-root-01");
            Assert.Equal(3, state!.Payload!["shelf"]!.GetValue<int>());
        }

        Assert.Throws<ArgumentException>(() => new DeviceRegistrationRequest(setup.IdScope, X509CertificateLoader.LoadCertificate(leaf.RawData)));
    }
}
