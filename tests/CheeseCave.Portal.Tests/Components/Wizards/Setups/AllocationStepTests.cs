using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Provisioning.Arm;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>bUnit: step 3 (allocation policy) against the real service and the embedded emulator's DPS.</summary>
public sealed class AllocationStepTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_step_explains_each_policy_saves_the_chosen_one_to_the_DPS_and_is_read_only_for_viewers()
    {
        await factory.CreateUserAsync("al-op", PortalRoles.Operator);
        await factory.CreateUserAsync("al-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("al-op");
        var viewer = await factory.PrincipalForAsync("al-viewer");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.Setups.CreateAsync(op, "Allocation cave")).Value!.Id;
        Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "allocation-cave-dps", "eastus")).Succeeded);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.Equal(DpsAllocationPolicy.Hashed, view.AllocationPolicy); // what a new DPS uses

        await using var ctx = NewContext(wizard);
        var changed = 0;
        var cut = ctx.Render<AllocationStep>(p => p.Add(s => s.View, view).Add(s => s.User, op)
            .Add(s => s.OnChanged, EventCallback.Factory.Create<int?>(this, _ => changed++)));

        // Three choices, each explained in plain words; the DPS's current one is marked, evenly weighted is the default.
        var options = cut.FindAll("[data-policy]");
        Assert.Equal(["Hashed", "GeoLatency", "Static"], options.Select(o => o.GetAttribute("data-policy")));
        Assert.All(options, o => Assert.True(o.TextContent.Length > 80, o.TextContent));
        Assert.Contains("Default", options[0].TextContent, StringComparison.Ordinal);
        Assert.NotNull(cut.Find("[data-policy=Hashed] [data-current-policy]"));

        // Pick "lowest latency" and save: the DPS itself reports the new policy.
        await cut.InvokeAsync(() => cut.Find("[data-policy=GeoLatency] input").Click());
        Assert.Contains("cc-choice--selected", cut.Find("[data-policy=GeoLatency]").ClassName, StringComparison.Ordinal);
        await cut.InvokeAsync(() => cut.FindAll("button").Single(b => b.TextContent.Contains("Save to the DPS", StringComparison.Ordinal)).Click());
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-policy-saved]")), TimeSpan.FromSeconds(20));
        Assert.Equal(1, changed);
        var live = await wizard.Setups.GetAsync(viewer, id);
        Assert.Equal(DpsAllocationPolicy.GeoLatency, live.Value!.Dps!.AllocationPolicy);

        // A Viewer sees the same choices, disabled, and no save button.
        var readOnly = ctx.Render<AllocationStep>(p => p.Add(s => s.View, live.Value).Add(s => s.User, viewer));
        Assert.DoesNotContain(readOnly.FindAll("button"), b => b.TextContent.Contains("Save", StringComparison.Ordinal));
        Assert.All(readOnly.FindAll("[data-policy] input"), i => Assert.True(i.HasAttribute("disabled")));
        Assert.NotNull(readOnly.Find("[data-policy=GeoLatency] [data-current-policy]"));
    }

    private BunitContext NewContext(SetupSlices wizard)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices(mud => mud.PopoverOptions.CheckForPopoverProvider = false);
        wizard.RegisterIn(ctx.Services);
        ctx.Services.AddFallbackServiceProvider(factory.Services.CreateScope().ServiceProvider);
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }
}
