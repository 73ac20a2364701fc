using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Setups;
using CheeseCave.Provisioning.Arm;
using Microsoft.AspNetCore.Components;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>bUnit: the wizard frame, the error alert and the endpoints step render what the service says.</summary>
public sealed class WizardComponentTests
{
    private static BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }

    private static IReadOnlyList<WizardStepStatus> Statuses() =>
    [
        .. WizardStep.All.Select(step => step.Number switch
        {
            1 => new WizardStepStatus(step, StepState.Done, "cave-dps in eastus"),
            2 => new WizardStepStatus(step, StepState.Ready, "No hub linked"),
            <= 4 => new WizardStepStatus(step, StepState.Blocked, "Needs a DPS"),
            _ => new WizardStepStatus(step, StepState.Unavailable, "Coming soon"),
        }),
    ];

    [Fact]
    public async Task The_shell_links_every_step_by_url_marks_the_active_one_and_shows_each_live_status()
    {
        await using var ctx = NewContext();
        var cut = ctx.Render<WizardShell>(p => p
            .Add(s => s.Steps, Statuses())
            .Add(s => s.Active, WizardStep.ByNumber(2))
            .Add(s => s.HrefFor, step => $"setups/7/{step.Slug}")
            .Add(s => s.ChildContent, (RenderFragment)(b => b.AddContent(0, "step body"))));

        Assert.Equal(10, cut.FindAll("a[data-step]").Count);
        Assert.Equal("setups/7/hubs", cut.Find("a[aria-current=step]").GetAttribute("href"));
        Assert.Equal("Done", cut.Find("[data-step=dps]").GetAttribute("data-state"));
        Assert.Contains("cave-dps in eastus", cut.Find("[data-step=dps] [data-step-status]").TextContent, StringComparison.Ordinal);
        Assert.Equal("Linked IoT hubs", cut.Find("#wizard-step-title").TextContent);
        Assert.Contains("step body", cut.Markup, StringComparison.Ordinal);
        Assert.Contains("Allocation policy", cut.Find("[data-next-step]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_error_alert_shows_code_and_correlation_id_and_offers_a_retry_only_when_transient()
    {
        await using var ctx = NewContext();
        var retried = 0;
        var transient = new PortalError("Could not create DPS 'x': the service is busy.", "Wait a moment and try again.", Status: 503, ServiceCode: "ServiceUnavailable", CorrelationId: "abc-123", IsTransient: true);
        var cut = ctx.Render<SetupErrorAlert>(p => p.Add(a => a.Error, transient).Add(a => a.OnRetry, () => retried++));
        Assert.Contains("ServiceUnavailable", cut.Find("[data-error-details]").TextContent, StringComparison.Ordinal);
        Assert.Equal("abc-123", cut.Find("[data-correlation-id]").TextContent);
        await cut.InvokeAsync(() => cut.Find("button").Click());
        Assert.Equal(1, retried);

        var permanent = transient with { IsTransient = false, Status = 400, ServiceCode = "InvalidName" };
        var second = ctx.Render<SetupErrorAlert>(p => p.Add(a => a.Error, permanent).Add(a => a.OnRetry, () => retried++));
        Assert.Empty(second.FindAll("button"));
    }

    [Fact]
    public async Task The_endpoints_step_offers_copy_buttons_for_the_id_scope_and_both_endpoints()
    {
        await using var ctx = NewContext();
        var dps = new ProvisioningServiceInfo("cave-dps", "cheesecave-rg", "eastus", "0ne00ABCDEF", "cave-dps.azure-devices-provisioning.net",
            "global.azure-devices-provisioning.net", DpsAllocationPolicy.Hashed, [], "Active");
        var view = new SetupView(1, "Cave", 4, "ada", DateTimeOffset.UnixEpoch, "ada", DateTimeOffset.UnixEpoch, "sub", "cheesecave-rg", "cave-dps", "eastus",
            dps.IdScope, dps.ServiceHost, dps.DeviceHost, DpsAllocationPolicy.Hashed, [], dps, null, Statuses(), CanChange: false, []);
        var cut = ctx.Render<EndpointsStep>(p => p.Add(s => s.View, view));

        Assert.Equal("0ne00ABCDEF", cut.Find("#copy-id-scope").GetAttribute("value"));
        Assert.Equal("global.azure-devices-provisioning.net", cut.Find("#copy-device-endpoint").GetAttribute("value"));
        Assert.Equal(3, cut.FindAll("[data-copy-field] button").Count);
        await cut.InvokeAsync(() => cut.Find("[data-copy-field=id-scope] button").Click());
        Assert.Contains(ctx.JSInterop.Invocations, i => i.Identifier == "cheeseCave.copyText" && Equals(i.Arguments[0], "0ne00ABCDEF"));
    }
}
