using CheeseCave.Emulator.Hosting;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.Arm;

/// <summary>Regressions found in the emulator while building the clients.</summary>
public sealed class EmulatorIssueTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    /// <summary>
    /// The emulator's ARM If-Match check (IfMatch.Accepts) used to strip a leading "W/" from the header before comparing,
    /// so a random base64 etag that itself starts with "W/" (1 in 4096) can never be matched: every conditional write to
    /// that DPS or certificate answers 412 until something else changes it. The service API's EtagMatches compares
    /// verbatim first and is not affected.
    /// </summary>
    [Fact]
    public async Task A_DPS_whose_etag_starts_with_W_slash_can_still_be_updated()
    {
        var emulator = fixture.Emulator;
        var arm = emulator.Arm();
        var name = TestEmulator.Unique("dps");
        await arm.CreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(emulator.ResourceGroup, name, "eastus"));
        var store = emulator.Server.Context.Store;
        var key = ArmKeys.ProvisioningService(name);
        await store.WriteAsync(tx => tx.Put(store.ProvisioningServices, key, store.ProvisioningServices.Get(key)! with { Etag = "W/Ab12Cd34E=" }));

        var updated = await arm.UpdateAllocationPolicyAsync(emulator.ResourceGroup, name, DpsAllocationPolicy.Static);

        Assert.Equal(DpsAllocationPolicy.Static, updated.AllocationPolicy);
    }
}
