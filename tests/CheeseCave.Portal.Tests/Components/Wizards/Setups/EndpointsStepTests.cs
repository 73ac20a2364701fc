using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Setups;
using CheeseCave.Provisioning.Arm;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>bUnit: the endpoints step shows the DPS endpoints with copy buttons.</summary>
[Collection(WizardComponentsGroup.Name)]
public sealed class EndpointsStepTests
{
    [Fact]
    public async Task The_endpoints_step_offers_copy_buttons_for_the_id_scope_and_both_endpoints()
    {
        await using var ctx = WizardRendering.NewContext();
        var dps = new ProvisioningServiceInfo("cave-dps", "cheesecave-rg", "eastus", "0ne00ABCDEF", "cave-dps.azure-devices-provisioning.net",
            "global.azure-devices-provisioning.net", DpsAllocationPolicy.Hashed, [], "Active");
        var view = new SetupView(1, "Cave", 4, "ada", DateTimeOffset.UnixEpoch, "ada", DateTimeOffset.UnixEpoch, "sub", "cheesecave-rg", "cave-dps", "eastus",
            dps.IdScope, dps.ServiceHost, dps.DeviceHost, DpsAllocationPolicy.Hashed, [], dps, null, WizardRendering.Statuses(), CanChange: false, []);
        var cut = ctx.Render<EndpointsStep>(p => p.Add(s => s.View, view));

        Assert.Equal("0ne00ABCDEF", cut.Find("#copy-id-scope").GetAttribute("value"));
        Assert.Equal("global.azure-devices-provisioning.net", cut.Find("#copy-device-endpoint").GetAttribute("value"));
        Assert.Equal(3, cut.FindAll("[data-copy-field] button").Count);
        await cut.InvokeAsync(() => cut.Find("[data-copy-field=id-scope] button").Click());
        Assert.Contains(ctx.JSInterop.Invocations, i => i.Identifier == "cheeseCave.copyText" && Equals(i.Arguments[0], "0ne00ABCDEF"));
    }
}
