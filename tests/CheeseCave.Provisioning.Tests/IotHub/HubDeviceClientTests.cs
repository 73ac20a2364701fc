using System.Text.Json.Nodes;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DeviceRegistration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;
using CheeseCave.Provisioning.IotHub;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.IotHub;

/// <summary>
/// The device-side hub client and the service-side reader against the emulator's hub: real TLS with the chain
/// CheeseCave.Pki issued, MQTT on the emulator's MQTT port, the hub's SAS policies from ARM listkeys.
/// </summary>
public sealed class HubDeviceClientTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private TestEmulator Emulator => fixture.Emulator;

    private static HubDeviceClient DeviceClient(ProvisioningConnection connection) =>
        new(connection, new HubDeviceClientOptions { Retry = TestEmulator.FastRetry() });

    [Fact]
    public async Task A_provisioned_device_sends_telemetry_reads_its_twin_and_the_service_sees_both()
    {
        using var pki = new TestPki();
        var arm = Emulator.Arm();
        var cave = await Emulator.SetUpCaveAsync(pki, arm);
        await EnrollAsync(cave, "hub-client-devices");
        var (leaf, chain) = pki.IssueDevice("comte-001");
        using var _ = leaf;
        var assigned = await Emulator.Devices().RegisterAsync(new DeviceRegistrationRequest(cave.IdScope, leaf, chain), DeviceTransport.Https);
        Assert.True(assigned.IsAssigned);
        using var service = new HubServiceClient(await arm.GetIotHubConnectionStringAsync(Emulator.ResourceGroup, cave.Hub.Name), Emulator.Connection,
            new HubRegistryClientOptions { Retry = TestEmulator.FastRetry() });
        Assert.True(service.CanReadTelemetry);
        var before = Assert.Single(await service.ListDevicesAsync(), d => d.DeviceId == "comte-001");
        Assert.False(before.IsConnected);
        Assert.Null(before.LastActivity);

        var client = DeviceClient(Emulator.Connection);
        HubTelemetrySent sent;
        Assert.Equal(Emulator.Server.Endpoints.MqttHost, client.EndpointFor(assigned.AssignedHub!));
        await using (var session = await client.ConnectAsync(new HubDeviceConnectRequest(assigned.AssignedHub!, leaf, chain)))
        {
            Assert.Equal("comte-001", session.DeviceId);
            Assert.True(session.IsConnected);
            var connected = Assert.Single(await service.ListDevicesAsync(), d => d.DeviceId == "comte-001");
            Assert.True(connected.IsConnected);
            Assert.NotNull(connected.LastActivity);

            sent = await session.SendTelemetryAsync(new HubTelemetryMessage("""{"temperature":11.8,"humidity":93}""")
            {
                Properties = new Dictionary<string, string> { ["cave"] = "north vault/2" },
            });
            Assert.Equal(34, sent.BodyBytes);

            var twin = await session.GetTwinAsync();
            Assert.Equal(1, twin.DesiredVersion);
            Assert.Equal(1, twin.ReportedVersion);
            Assert.DoesNotContain("$version", twin.Desired.Select(p => p.Key));
        }

        var message = Assert.Single(await service.ReadTelemetryAsync("comte-001"));
        Assert.Equal("comte-001", message.DeviceId);
        Assert.False(message.IsBase64);
        Assert.Equal(11.8, JsonNode.Parse(message.Body)!["temperature"]!.GetValue<double>());
        Assert.Equal("north vault/2", message.Properties["cave"]);
        Assert.Equal("application/json", message.ContentType);
        Assert.Equal(sent.MessageId, message.SystemProperties["$.mid"]);
        Assert.Contains(await service.ReadTelemetryAsync(null), m => m.SequenceNumber == message.SequenceNumber);

        var after = Assert.Single(await service.ListDevicesAsync(), d => d.DeviceId == "comte-001");
        Assert.False(after.IsConnected); // disposing the session disconnected it
        Assert.NotNull(after.LastActivity);

        var serviceTwin = await service.GetTwinAsync("comte-001");
        Assert.NotNull(serviceTwin);
        Assert.Equal(1, serviceTwin.DesiredVersion);
        Assert.Null(await service.GetTwinAsync("nobody-here"));
        Assert.Empty(await service.ReadTelemetryAsync("nobody-here"));
    }

    [Fact]
    public async Task A_certificate_from_another_ca_is_refused_in_plain_words()
    {
        using var pki = new TestPki();
        using var stranger = new TestPki("Stranger");
        var cave = await Emulator.SetUpCaveAsync(pki);
        await EnrollAsync(cave, "hub-refusal-devices");
        var assigned = await Emulator.Devices().RegisterAsync(pki.Request(cave.IdScope, "gouda-001"), DeviceTransport.Https);
        Assert.True(assigned.IsAssigned);

        // Same device id, but a chain that ends at a CA no DPS linked to this hub has verified.
        var (leaf, chain) = stranger.IssueDevice("gouda-001");
        using var _ = leaf;
        var refused = await Assert.ThrowsAsync<ProvisioningException>(() => DeviceClient(Emulator.Connection).ConnectAsync(new HubDeviceConnectRequest(assigned.AssignedHub!, leaf, chain)));
        Assert.Equal(401, refused.Status);
        Assert.False(refused.IsTransient);
        Assert.Contains("the hub refused the device's certificate", refused.Message, StringComparison.Ordinal);
        Assert.Contains("gouda-001", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hub_that_does_not_listen_is_a_network_error_that_names_the_endpoint()
    {
        using var pki = new TestPki();
        var (leaf, chain) = pki.IssueDevice("feta-001");
        using var _ = leaf;
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // a free port nobody listens on
        var failed = await Assert.ThrowsAsync<ProvisioningException>(() => DeviceClient(Emulator.Connection)
            .ConnectAsync(new HubDeviceConnectRequest("cave-hub.azure-devices.net", leaf, chain) { GatewayHost = $"127.0.0.1:{port}" }));
        Assert.True(failed.IsTransient);
        Assert.Contains("connect device 'feta-001' to IoT hub 'cave-hub.azure-devices.net'", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Against_azure_devices_go_to_the_hub_on_8883_and_telemetry_is_not_read_over_https()
    {
        var azure = ProvisioningConnection.ForAzure(new StaticTokenCredential("not-used"), "00000000-0000-0000-0000-000000000000");
        Assert.Equal("cave-hub.azure-devices.net:8883", DeviceClient(azure).EndpointFor("cave-hub.azure-devices.net"));
        using var service = new HubServiceClient("HostName=cave-hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" + Convert.ToBase64String(new byte[32]), azure);
        Assert.False(service.CanReadTelemetry);
        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => service.ReadTelemetryAsync("comte-001"));
        Assert.Contains("Event Hubs-compatible endpoint", refused.Message, StringComparison.Ordinal);
    }

    private async Task EnrollAsync(CaveSetup cave, string groupId)
    {
        using var service = Emulator.Service(cave.ServiceConnectionString);
        await service.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup
        {
            EnrollmentGroupId = groupId,
            Attestation = AttestationMechanism.FromCaReferences("cave-root"),
            ProvisioningStatus = ProvisioningStatus.Enabled,
        });
    }
}
