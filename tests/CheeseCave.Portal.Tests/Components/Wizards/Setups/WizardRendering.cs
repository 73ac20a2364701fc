using Bunit;
using CheeseCave.Portal.Setups;
using Microsoft.AspNetCore.Components;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>A bUnit context for components that need no portal, and step statuses to render.</summary>
internal static class WizardRendering
{
    public static BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }

    public static IReadOnlyList<WizardStepStatus> Statuses() =>
    [
        .. WizardStep.All.Select(step => step.Number switch
        {
            1 => new WizardStepStatus(step, StepState.Done, "cave-dps in eastus"),
            2 => new WizardStepStatus(step, StepState.Ready, "No hub linked"),
            <= 4 => new WizardStepStatus(step, StepState.Blocked, "Needs a DPS"),
            _ => new WizardStepStatus(step, StepState.Unavailable, "Coming soon"),
        }),
    ];
}
