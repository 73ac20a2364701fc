using Bunit;
using Bunit.TestDoubles;
using CheeseCave.Portal.Components.Layout;
using CheeseCave.Portal.Components.Pages;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Components.Pages;

public sealed class HomePageTests
{
    // Disposed with `await using`: MudBlazor registers services that are only IAsyncDisposable.
    private static BunitContext NewContext(Action<BunitAuthorizationContext>? user = null)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        user?.Invoke(ctx.AddAuthorization()); // before anything resolves a service
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }

    [Fact]
    public async Task The_layout_shows_the_signed_in_user_their_role_and_a_sign_out_form_with_antiforgery()
    {
        await using var ctx = NewContext(auth =>
        {
            auth.SetAuthorized("alice");
            auth.SetRoles(PortalRoles.Viewer, PortalRoles.Operator);
        });
        var cut = ctx.Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page body"))));

        Assert.Equal("alice", cut.Find("[data-user]").GetAttribute("data-user"));
        Assert.Equal("Operator", cut.Find(".cc-user-role").TextContent.Trim());
        var form = cut.Find("form.cc-logout");
        Assert.Equal("post", form.GetAttribute("method"));
        Assert.Equal("account/logout", form.GetAttribute("action"));
        Assert.Empty(cut.FindAll("a[href='admin/users']")); // the Users link is for administrators
    }

    [Fact]
    public async Task The_navigation_offers_the_users_page_to_administrators_only()
    {
        await using var ctx = NewContext(auth =>
        {
            auth.SetAuthorized("root");
            auth.SetRoles(PortalRoles.Administrator);
            auth.SetPolicies(PortalPolicies.RequireAdministrator);
        });

        var cut = ctx.Render<NavMenu>();

        Assert.Single(cut.FindAll("a[href='admin/users']"));
    }

    [Fact]
    public async Task The_home_page_says_what_the_product_is_and_lists_its_capabilities()
    {
        await using var ctx = NewContext();
        var cut = ctx.Render<HomePage>();

        Assert.Equal("CheeseCave Portal", cut.Find("h1").TextContent.Trim());
        Assert.Contains("team-safe replacement for the cheese-cave DPS X.509 setup", cut.Markup, StringComparison.Ordinal);

        var capabilities = cut.FindAll("[data-capability]");
        Assert.Equal(["ca", "cli", "wizard", "approvals", "emulator"], capabilities.Select(c => c.GetAttribute("data-capability")));
        Assert.Contains("ECDSA P-256", capabilities[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("RSA-4096", capabilities[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("Available", capabilities[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("Available", capabilities[2].TextContent, StringComparison.Ordinal); // the setup wizard
        Assert.All(capabilities.Skip(3), c => Assert.Contains("Available", c.TextContent, StringComparison.Ordinal)); // approvals and audit, the emulator
    }

    [Fact]
    public async Task The_home_page_shows_the_cheesecave_commands_and_the_ten_setup_steps()
    {
        await using var ctx = NewContext();
        var cut = ctx.Render<HomePage>();

        var commands = cut.FindAll("pre.cc-code").Select(c => c.TextContent).ToArray();
        Assert.Equal(
            [
                "dotnet run --project src/CheeseCave.Cli -- create_root_and_intermediate",
                "dotnet run --project src/CheeseCave.Cli -- create_verification_certificate <code>",
                "dotnet run --project src/CheeseCave.Cli -- create_device_certificate <id>",
            ],
            commands);

        var steps = cut.FindAll("[data-step]");
        Assert.Equal(Enumerable.Range(1, 10).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            steps.Select(s => s.GetAttribute("data-step")));
        Assert.Contains("iothubowner", steps[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("ID Scope", steps[3].TextContent, StringComparison.Ordinal);
        Assert.Contains("enrollment group", steps[7].TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_layout_marks_interactivity_and_toggles_the_navigation_drawer()
    {
        await using var ctx = NewContext(auth => auth.SetAuthorized("alice"));
        var cut = ctx.Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page body"))));

        Assert.Equal("true", cut.Find("[data-interactive]").GetAttribute("data-interactive"));
        Assert.Contains("page body", cut.Find(".mud-main-content").TextContent, StringComparison.Ordinal);

        // The responsive drawer's first state depends on the screen size, unknown here: check that each click flips it.
        var initiallyOpen = DrawerIsOpen();
        for (var click = 1; click <= 2; click++)
        {
            cut.Find("button[aria-label='Toggle navigation']").Click();

            var expectOpen = click % 2 == 1 ? !initiallyOpen : initiallyOpen;
            Assert.Equal(expectOpen, DrawerIsOpen());
            Assert.Equal(expectOpen ? "true" : "false", cut.Find("button[aria-label='Toggle navigation']").GetAttribute("aria-expanded"));
        }

        bool DrawerIsOpen() => cut.Find("#nav-drawer").ClassList.Contains("mud-drawer--open");
    }
}
