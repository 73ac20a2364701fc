using CheeseCave.Provisioning.DeviceRegistration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;
using CheeseCave.Provisioning.IotHub;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.IotHub;

/// <summary>The hub registry client against the emulator's hub: read, disable/enable with the etag, create when missing.</summary>
public sealed class HubRegistryClientTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private TestEmulator Emulator => fixture.Emulator;

    [Fact]
    public async Task A_provisioned_device_is_disabled_and_enabled_again_in_its_hub()
    {
        using var pki = new TestPki();
        var arm = Emulator.Arm();
        var cave = await Emulator.SetUpCaveAsync(pki, arm);
        using (var service = Emulator.Service(cave.ServiceConnectionString))
        {
            await service.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup
            {
                EnrollmentGroupId = "hub-registry-devices",
                Attestation = AttestationMechanism.FromCaReferences("cave-root"),
                ProvisioningStatus = ProvisioningStatus.Enabled,
            });
        }

        var registered = await Emulator.Devices().RegisterAsync(pki.Request(cave.IdScope, "edam-001"), DeviceTransport.Https);
        Assert.True(registered.IsAssigned);

        using var hub = new HubRegistryClient(await arm.GetIotHubConnectionStringAsync(Emulator.ResourceGroup, cave.Hub.Name), Emulator.Connection,
            new HubRegistryClientOptions { Retry = TestEmulator.FastRetry() });
        Assert.Equal(cave.Hub.HostName, hub.HostName);
        var device = await hub.GetDeviceAsync("edam-001");
        Assert.NotNull(device);
        Assert.True(device.IsEnabled);
        Assert.Null(await hub.GetDeviceAsync("nobody-here"));

        var disabled = await hub.SetStatusAsync("edam-001", HubDeviceStatus.Disabled, "revoked: lost in transit", createIfMissing: false);
        Assert.False(disabled!.IsEnabled);
        Assert.Equal("revoked: lost in transit", disabled.StatusReason);
        Assert.NotEqual(device.Etag, disabled.Etag);
        Assert.Equal(device.AuthenticationType, disabled.AuthenticationType); // the identity is sent back whole

        var enabled = await hub.SetStatusAsync("edam-001", HubDeviceStatus.Enabled, null, createIfMissing: false);
        Assert.True(enabled!.IsEnabled);
        Assert.Null(await hub.SetStatusAsync("nobody-here", HubDeviceStatus.Disabled, "x", createIfMissing: false));

        // Not registered yet: created disabled, so the device cannot connect once DPS assigns it.
        var created = await hub.SetStatusAsync("edam-002", HubDeviceStatus.Disabled, "revoked before first use", createIfMissing: true);
        Assert.False(created!.IsEnabled);
        Assert.Equal("certificateAuthority", created.AuthenticationType);
    }

    [Fact]
    public async Task A_policy_without_registry_write_is_refused_with_the_hubs_reason()
    {
        using var pki = new TestPki();
        var arm = Emulator.Arm();
        var cave = await Emulator.SetUpCaveAsync(pki, arm);
        var keys = await arm.ListIotHubKeysAsync(Emulator.ResourceGroup, cave.Hub.Name);
        var readOnly = keys.First(k => k.HasRight("RegistryRead") && !k.HasRight("RegistryWrite"));
        using var hub = new HubRegistryClient(readOnly.ToConnectionString(cave.Hub.HostName!), Emulator.Connection, new HubRegistryClientOptions { Retry = TestEmulator.FastRetry(0) });
        var refused = await Assert.ThrowsAnyAsync<ProvisioningException>(() => hub.SetStatusAsync("brie-404", HubDeviceStatus.Disabled, null, createIfMissing: true));
        Assert.Equal(401, refused.Status);
    }
}
