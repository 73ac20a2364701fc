using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Setups;
using Microsoft.AspNetCore.Components;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>bUnit: the wizard frame renders what the service says about each step.</summary>
[Collection(WizardComponentsGroup.Name)]
public sealed class WizardShellTests
{
    [Fact]
    public async Task The_shell_links_every_step_by_url_marks_the_active_one_and_shows_each_live_status()
    {
        await using var ctx = WizardRendering.NewContext();
        var cut = ctx.Render<WizardShell>(p => p
            .Add(s => s.Steps, WizardRendering.Statuses())
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
}
