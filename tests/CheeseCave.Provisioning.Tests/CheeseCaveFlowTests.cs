using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DeviceRegistration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests;

/// <summary>The Microsoft Learn cheese-cave exercise, end to end, through the three clients against the emulator.</summary>
public sealed class CheeseCaveFlowTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private TestEmulator Emulator => fixture.Emulator;

    [Fact]
    public async Task The_whole_cheese_cave_flow_assigns_devices_over_HTTPS_and_MQTT()
    {
        using var pki = new TestPki();
        var arm = Emulator.Arm();
        var rg = Emulator.ResourceGroup;
        var hubName = TestEmulator.Unique("cave-hub");
        var dpsName = TestEmulator.Unique("cave-dps");

        // The subscription and resource group of the sandbox.
        var subscription = await arm.GetDefaultSubscriptionAsync();
        Assert.Equal(Emulator.Server.Endpoints.SubscriptionId, subscription.SubscriptionId);
        Assert.Equal(subscription, Assert.Single(await arm.ListSubscriptionsAsync()));
        Assert.Contains(await arm.ListResourceGroupsAsync(), g => g.Name == rg);

        // 1. IoT hub, and the policy DPS links with (iothubowner first).
        var hubOperation = await arm.StartCreateIotHubAsync(new IotHubCreateOptions(rg, hubName, "eastus"));
        var hub = await hubOperation.WaitForCompletionAsync();
        Assert.Equal($"{hubName}.azure-devices.net", hub.HostName);
        Assert.Equal(hub, await arm.GetIotHubAsync(rg, hubName));
        Assert.Contains(await arm.ListIotHubsAsync(rg), h => h.Name == hubName && h.SkuName == "S1");
        Assert.Contains(await arm.ListIotHubsAsync(), h => h.Name == hubName);
        Assert.Equal(5, (await arm.ListIotHubKeysAsync(rg, hubName)).Count);
        var policies = await arm.ListIotHubProvisioningPoliciesAsync(rg, hubName);
        Assert.Equal("iothubowner", policies[0].KeyName);
        Assert.All(policies, p => Assert.True(p.HasRight("RegistryWrite") && p.HasRight("ServiceConnect")));
        Assert.DoesNotContain(policies, p => p.KeyName is "service" or "device" or "registryRead" or "registryReadWrite");
        Assert.DoesNotContain(policies[0].PrimaryKey!, policies[0].ToString(), StringComparison.Ordinal);

        // 2. DPS, following the long-running create as a UI would.
        Assert.True((await arm.CheckProvisioningServiceNameAvailabilityAsync(dpsName)).IsAvailable);
        var operation = await arm.StartCreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(rg, dpsName, "eastus"));
        var statuses = new List<string> { operation.StatusText };
        while (!await operation.UpdateStatusAsync())
        {
            statuses.Add(operation.StatusText);
            await Task.Delay(20);
        }

        statuses.Add(operation.StatusText);
        Assert.Equal("Accepted", statuses[0]); // Azure answers a create with provisioningState "Accepted"
        Assert.Equal("Succeeded", statuses[^1]);
        Assert.NotNull(operation.Value);
        var taken = await arm.CheckProvisioningServiceNameAvailabilityAsync(dpsName);
        Assert.False(taken.IsAvailable);
        Assert.Equal("AlreadyExists", taken.Reason);

        // 3. Link the hub with its iothubowner connection string.
        var linked = await arm.LinkIotHubAsync(rg, dpsName, new LinkIotHubOptions(policies[0].ToConnectionString(hub.HostName!), "eastus") { AllocationWeight = 3 });
        var link = Assert.Single(linked.LinkedHubs);
        Assert.Equal(hub.HostName, link.HostName);
        Assert.Equal(3, link.AllocationWeight);

        // 4. Allocation policy and 5. ID scope.
        var dps = await arm.UpdateAllocationPolicyAsync(rg, dpsName, DpsAllocationPolicy.GeoLatency);
        Assert.Equal(DpsAllocationPolicy.GeoLatency, dps.AllocationPolicy);
        Assert.Single(dps.LinkedHubs);
        Assert.Matches("^0ne[0-9A-F]{8}$", dps.IdScope);
        Assert.Equal(Emulator.Server.Endpoints.ServiceHost, dps.ServiceHost);
        Assert.Contains(await arm.ListProvisioningServicesAsync(rg), d => d.Name == dpsName && d.IdScope == dps.IdScope);
        Assert.Contains(await arm.ListProvisioningServicesAsync(), d => d.Name == dpsName);

        // 6. Upload the root CA, 7. proof of possession.
        var uploaded = await arm.UploadCertificateAsync(rg, dpsName, "cave-root", pki.Root.Certificate);
        Assert.False(uploaded.IsVerified);
        Assert.Equal(pki.Root.Certificate.Thumbprint, uploaded.Thumbprint);
        Assert.Equal("CN=Cave Root CA", uploaded.Subject);
        var code = await arm.GenerateVerificationCodeAsync(rg, dpsName, "cave-root");
        Assert.Matches("^[0-9A-F]{48}$", code.Code);
        using (var verification = pki.VerificationCertificate(code.Code))
        {
            var verified = await arm.VerifyCertificateAsync(rg, dpsName, "cave-root", verification);
            Assert.True(verified.IsVerified);
        }

        var certificates = await arm.ListCertificatesAsync(rg, dpsName);
        Assert.True(Assert.Single(certificates).IsVerified);

        // 8. X.509 enrollment group on the verified root, through the service API with a key from listkeys.
        var connectionString = await arm.GetProvisioningServiceConnectionStringAsync(rg, dpsName);
        Assert.StartsWith($"HostName={dps.ServiceHost};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=", connectionString, StringComparison.Ordinal);
        using var service = Emulator.Service(connectionString);
        var group = await service.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup
        {
            EnrollmentGroupId = "cheese-cave-devices",
            Attestation = AttestationMechanism.FromCaReferences("cave-root"),
            ProvisioningStatus = ProvisioningStatus.Enabled,
            ReprovisionPolicy = new ReprovisionPolicy { UpdateHubAssignment = true, MigrateDeviceData = true },
            InitialTwin = new InitialTwin
            {
                Tags = new JsonObject { ["cave"] = "roquefort" },
                Properties = new InitialTwinProperties { Desired = new JsonObject { ["temperature"] = 12, ["humidity"] = 95 } },
            },
        });
        Assert.Equal("cave-root", group.Attestation.X509!.CaReferences!.Primary);
        Assert.NotNull(group.CreatedDateTimeUtc);

        // 9-10. Device certificates (leaf + intermediate) and test provisioning over both transports.
        var devices = Emulator.Devices();
        var overHttps = await devices.RegisterOverHttpsAsync(pki.Request(dps.IdScope!, "sensor-th-0001"));
        Assert.Equal(RegistrationStatus.Assigned, overHttps.Status);
        Assert.Equal(hub.HostName, overHttps.AssignedHub);
        Assert.Equal("sensor-th-0001", overHttps.DeviceId);
        Assert.Equal(RegistrationSubstatus.InitialAssignment, overHttps.Substatus);
        Assert.Equal(DeviceTransport.Https, overHttps.Transport);

        var overMqtt = await devices.RegisterOverMqttAsync(pki.Request(dps.IdScope!, "sensor-th-0002"));
        Assert.True(overMqtt.IsAssigned);
        Assert.Equal(hub.HostName, overMqtt.AssignedHub);
        Assert.Equal(DeviceTransport.Mqtt, overMqtt.Transport);

        // Registering again (data migrated to the same hub) and the registration records.
        var again = await devices.RegisterAsync(pki.Request(dps.IdScope!, "sensor-th-0001"), DeviceTransport.Mqtt);
        Assert.Equal(RegistrationSubstatus.ReprovisionedToInitialAssignment, again.Substatus);
        var state = await service.GetDeviceRegistrationStateAsync("sensor-th-0002");
        Assert.Equal(RegistrationStatus.Assigned, state!.Status);
        Assert.Equal(hub.HostName, state.AssignedHub);
        var registrations = await service.QueryDeviceRegistrationStatesAsync("cheese-cave-devices", pageSize: 1).ToListAsync();
        Assert.Equal(["sensor-th-0001", "sensor-th-0002"], registrations.Select(r => r.RegistrationId).Order());
        Assert.True(await service.DeleteDeviceRegistrationStateAsync("sensor-th-0002"));
        Assert.Null(await service.GetDeviceRegistrationStateAsync("sensor-th-0002"));
        Assert.False(await service.DeleteDeviceRegistrationStateAsync("sensor-th-0002"));
    }

    [Fact]
    public async Task The_connection_can_come_from_the_emulators_endpoints_json()
    {
        var path = Path.Combine(Emulator.Server.DataDirectory, EmulatorEndpoints.FileName);
        var connection = await ProvisioningConnection.FromSettingsAsync(new ProvisioningConnectionSettings { EmulatorEndpointsFile = path });

        Assert.Equal(ProvisioningTarget.Emulator, connection.Target);
        Assert.Equal(Emulator.Server.Endpoints.DeviceProvisioningHost, connection.DeviceProvisioningHost);
        Assert.Equal(Emulator.Server.Endpoints.MqttHost, connection.MqttHost);
        var arm = new ArmProvisioningClient(connection);
        var group = await arm.GetResourceGroupAsync(Emulator.ResourceGroup);
        Assert.Equal(Emulator.ResourceGroup, group!.Name);
        Assert.Null(await arm.GetResourceGroupAsync("no-such-group"));
        var created = await arm.CreateOrUpdateResourceGroupAsync("cave-extra-rg", "westeurope");
        Assert.Equal("westeurope", created.Location);
    }

    [Fact]
    public async Task Individual_enrollments_and_group_queries_page_through_continuations()
    {
        using var pki = new TestPki("Query");
        var setup = await Emulator.SetUpCaveAsync(pki);
        using var service = Emulator.Service(setup.ServiceConnectionString);
        for (var i = 0; i < 5; i++)
        {
            await service.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup
            {
                EnrollmentGroupId = $"group-{i}",
                Attestation = AttestationMechanism.FromCaReferences("cave-root"),
                AllocationPolicy = AllocationPolicy.Static,
                IotHubs = [setup.Hub.HostName!],
            });
        }

        var groups = await service.QueryEnrollmentGroupsAsync(pageSize: 2).ToListAsync();
        Assert.Equal(5, groups.Count);
        Assert.All(groups, g => Assert.Equal(AllocationPolicy.Static, g.AllocationPolicy));

        var (leaf, _) = pki.IssueDevice("solo-device");
        var individual = await service.CreateOrUpdateIndividualEnrollmentAsync(new IndividualEnrollment
        {
            RegistrationId = "solo-device",
            DeviceId = "solo-device-in-hub",
            Attestation = AttestationMechanism.FromClientCertificates(leaf),
        });
        Assert.Equal(leaf.Thumbprint, individual.Attestation.X509!.ClientCertificates!.Primary!.Info!.Sha1Thumbprint);
        var disabled = await service.UpdateIndividualEnrollmentAsync("solo-device", e => e.ProvisioningStatus = ProvisioningStatus.Disabled);
        Assert.Equal(ProvisioningStatus.Disabled, disabled.ProvisioningStatus);
        Assert.Single(await service.QueryIndividualEnrollmentsAsync().ToListAsync());

        // A disabled individual enrollment wins over the group: DPS answers "disabled", not an error.
        var result = await Emulator.Devices().RegisterOverHttpsAsync(new DeviceRegistrationRequest(setup.IdScope, leaf, pki.IssueDevice("unused").Chain));
        Assert.Equal(RegistrationStatus.Disabled, result.Status);
        Assert.False(result.IsAssigned);

        Assert.True(await service.DeleteIndividualEnrollmentAsync("solo-device"));
        Assert.Null(await service.GetIndividualEnrollmentAsync("solo-device"));
        Assert.True(await service.DeleteEnrollmentGroupAsync("group-0"));
        Assert.False(await service.DeleteEnrollmentGroupAsync("group-0"));
        Assert.Null(await service.GetEnrollmentGroupAsync("group-0"));
    }
}
