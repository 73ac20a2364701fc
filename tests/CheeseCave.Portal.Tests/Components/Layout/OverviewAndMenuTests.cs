using Bunit;
using Bunit.TestDoubles;
using CheeseCave.Portal.Components.Layout;
using CheeseCave.Portal.Components.Pages;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Components;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Components.Layout;

public sealed class OverviewAndMenuTests
{
    private static BunitContext NewContext(Action<BunitAuthorizationContext>? user = null)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        user?.Invoke(ctx.AddAuthorization());
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }

    [Fact]
    public async Task The_menu_has_one_entry_for_the_wizard_and_no_links_into_sections_of_the_overview()
    {
        await using var ctx = NewContext(auth =>
        {
            auth.SetAuthorized("root");
            auth.SetRoles(PortalRoles.Administrator);
            auth.SetPolicies(PortalPolicies.RequireAdministrator, PortalPolicies.RequireApprover);
        });

        var cut = ctx.Render<NavMenu>();

        var links = cut.FindAll("a").Select(a => (Href: a.GetAttribute("href"), Text: a.TextContent.Trim())).ToList();
        var wizard = Assert.Single(links, l => l.Href == "setups");
        Assert.Equal("Setup wizard", wizard.Text);
        Assert.DoesNotContain(links, l => l.Href?.Contains('#', StringComparison.Ordinal) == true);
        Assert.DoesNotContain(links, l => l.Text.Contains("Setup steps", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_overview_says_all_ten_steps_are_done_in_the_portal_with_the_command_line_as_an_alternative()
    {
        await using var ctx = NewContext();
        var cut = ctx.Render<HomePage>();

        var intro = string.Join(' ', cut.Find("#setup-steps .cc-section-intro").TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("does all ten steps in the portal", intro, StringComparison.Ordinal);
        Assert.Contains("remains an alternative", intro, StringComparison.Ordinal);
        Assert.DoesNotContain("today the certificate steps are done", cut.Markup, StringComparison.Ordinal);
        Assert.Equal("setups", cut.Find("[data-start-setup]").GetAttribute("href"));

        var steps = cut.FindAll("[data-step]").Select(s => s.TextContent).ToArray();
        Assert.Contains("import", steps[4], StringComparison.Ordinal); // 5: CA created or imported
        Assert.Contains("One click", steps[6], StringComparison.Ordinal); // 7: proof of possession, one click or by hand
        Assert.Contains("Test a registration", steps[9], StringComparison.Ordinal);

        // The command line is offered for exactly the certificate steps, as an alternative.
        var alternatives = cut.FindAll("[data-step]").Where(s => s.QuerySelector(".cc-step-alternative") is not null).Select(s => s.GetAttribute("data-step"));
        Assert.Equal(["5", "7", "9"], alternatives);
    }
}
