using CheeseCave.Pki;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.Tests;

public sealed class ArmFlowTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private TestEmulator Emulator => fixture.Emulator;

    [Fact]
    public async Task Hub_DPS_link_allocation_certificate_and_proof_of_possession()
    {
        var arm = Emulator.Arm();
        var rg = Emulator.ResourceGroup;
        var hubName = TestEmulator.Unique("hub");
        var dpsName = TestEmulator.Unique("dps");

        var hub = await arm.CreateIotHubAsync(new IotHubCreateOptions(rg, hubName, "eastus"));
        Assert.Equal(hubName, hub.Name);
        Assert.Equal($"{hubName}.azure-devices.net", hub.HostName);

        var policies = await arm.ListIotHubProvisioningPoliciesAsync(rg, hubName);
        Assert.Equal("iothubowner", policies[0].KeyName);
        Assert.All(policies, p => Assert.True(p.CanProvisionDevices));

        Assert.True((await arm.CheckProvisioningServiceNameAvailabilityAsync(dpsName)).IsAvailable);
        var operation = await arm.StartCreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(rg, dpsName, "eastus"));
        Assert.False(operation.HasCompleted);
        var dps = await operation.WaitForCompletionAsync();
        Assert.True(operation.HasCompleted);
        Assert.StartsWith("0ne", dps.IdScope, StringComparison.Ordinal);

        var linked = await arm.LinkIotHubAsync(rg, dpsName, new LinkIotHubOptions(policies[0].ToConnectionString(hub.HostName!), "eastus"));
        Assert.Equal(hub.HostName, Assert.Single(linked.LinkedHubs).HostName);

        var updated = await arm.UpdateAllocationPolicyAsync(rg, dpsName, DpsAllocationPolicy.GeoLatency);
        Assert.Equal(DpsAllocationPolicy.GeoLatency, updated.AllocationPolicy);
        Assert.Single(updated.LinkedHubs);

        var authority = new CertificateAuthority();
        using var root = authority.CreateRoot(new RootCaRequest("Cave Root")).ToCaCredential();
        var uploaded = await arm.UploadCertificateAsync(rg, dpsName, "cave-root", root.Certificate);
        Assert.False(uploaded.IsVerified);
        var code = await arm.GenerateVerificationCodeAsync(rg, dpsName, "cave-root");
        using var verification = authority.CreateVerificationCertificate(new VerificationCertificateRequest(code.Code), root);
        var verified = await arm.VerifyCertificateAsync(rg, dpsName, "cave-root", verification.Certificate);
        Assert.True(verified.IsVerified);
    }
}
