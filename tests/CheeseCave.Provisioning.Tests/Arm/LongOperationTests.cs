using CheeseCave.Emulator.Hosting;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.Arm;

/// <summary>An emulator whose long-running operations take seconds, as Azure's do.</summary>
public sealed class AzureLikeEmulatorFixture : IAsyncLifetime
{
    public TestEmulator Emulator { get; private set; } = null!;

    public async Task InitializeAsync() => Emulator = await TestEmulator.StartAsync(o => o.Timing = EmulatorTimings.AzureLike);

    public async Task DisposeAsync() => await Emulator.DisposeAsync();
}

/// <summary>
/// Create, update and delete of a DPS through the wire client as Azure answers them (201/202 + Azure-AsyncOperation,
/// "Accepted", idScope null until the operation has succeeded), with operations that take seconds. Waits on state.
/// </summary>
public sealed class LongOperationTests(AzureLikeEmulatorFixture fixture) : IClassFixture<AzureLikeEmulatorFixture>
{
    [Fact]
    public async Task Create_update_and_delete_follow_their_operations_and_the_id_scope_appears_once_the_create_succeeded()
    {
        var emulator = fixture.Emulator;
        var arm = emulator.Arm();
        var name = TestEmulator.Unique("dps");

        var operation = await arm.StartCreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(emulator.ResourceGroup, name, "eastus"));
        Assert.Equal("Accepted", operation.StatusText);
        Assert.False(operation.HasCompleted);

        // While the operation runs, a GET shows the DPS Accepted and without an ID scope.
        var during = await arm.GetProvisioningServiceAsync(emulator.ResourceGroup, name);
        Assert.Equal("Accepted", during!.ProvisioningState);
        Assert.Null(during.IdScope);

        var seen = new List<string> { operation.StatusText };
        while (!await operation.UpdateStatusAsync())
        {
            seen.Add(operation.StatusText);
            await Task.Delay(50);
        }

        Assert.Contains("Running", seen);
        Assert.Equal("Succeeded", operation.StatusText);
        Assert.Matches("^0ne[0-9A-F]{8}$", operation.Value!.IdScope);
        Assert.Equal("Succeeded", operation.Value.ProvisioningState);

        // Update: 201 + Azure-AsyncOperation; the client waits for the operation and reads the result back.
        var updated = await arm.UpdateAllocationPolicyAsync(emulator.ResourceGroup, name, DpsAllocationPolicy.Static);
        Assert.Equal(DpsAllocationPolicy.Static, updated.AllocationPolicy);
        Assert.Equal("Succeeded", updated.ProvisioningState);
        Assert.Equal(operation.Value.IdScope, updated.IdScope);

        // Delete: 202 + Azure-AsyncOperation + Location; done when the operation is.
        Assert.True(await arm.DeleteProvisioningServiceAsync(emulator.ResourceGroup, name));
        Assert.Null(await arm.GetProvisioningServiceAsync(emulator.ResourceGroup, name));
        Assert.False(await arm.DeleteProvisioningServiceAsync(emulator.ResourceGroup, name));
    }

    [Fact]
    public async Task A_hub_create_runs_Accepted_then_Running_and_has_its_host_name_once_done_and_delete_follows_its_operation()
    {
        var emulator = fixture.Emulator;
        var arm = emulator.Arm();
        var name = TestEmulator.Unique("hub");

        var operation = await arm.StartCreateIotHubAsync(new IotHubCreateOptions(emulator.ResourceGroup, name, "eastus"));
        Assert.Equal("Accepted", operation.StatusText);
        var seen = new List<string>();
        while (!await operation.UpdateStatusAsync())
        {
            seen.Add(operation.StatusText);
            await Task.Delay(50);
        }

        Assert.Contains("Running", seen);
        Assert.Equal($"{name}.azure-devices.net", operation.Value!.HostName);
        Assert.True(await arm.DeleteIotHubAsync(emulator.ResourceGroup, name));
        Assert.Null(await arm.GetIotHubAsync(emulator.ResourceGroup, name));
    }
}

/// <summary>The same path with the default (instant) timing: the first poll finishes every operation.</summary>
public sealed class InstantOperationTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    [Fact]
    public async Task With_instant_timing_the_first_poll_finishes_the_create_and_the_id_scope_is_there()
    {
        var emulator = fixture.Emulator;
        var arm = emulator.Arm();
        var name = TestEmulator.Unique("dps");

        var operation = await arm.StartCreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(emulator.ResourceGroup, name, "eastus"));
        Assert.Equal("Accepted", operation.StatusText);

        Assert.True(await operation.UpdateStatusAsync());
        Assert.Matches("^0ne[0-9A-F]{8}$", operation.Value!.IdScope);

        var linkedHubs = await arm.UpdateAllocationPolicyAsync(emulator.ResourceGroup, name, DpsAllocationPolicy.GeoLatency);
        Assert.Equal(DpsAllocationPolicy.GeoLatency, linkedHubs.AllocationPolicy);
        Assert.True(await arm.DeleteProvisioningServiceAsync(emulator.ResourceGroup, name));
        Assert.Null(await arm.GetProvisioningServiceAsync(emulator.ResourceGroup, name));
    }
}
