using System.Security.Claims;
using Bunit;
using CheeseCave.Portal.Components.Pages.Admin;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Accounts;

/// <summary>bUnit: the Users page against the real portal services (real database), as the administrator's circuit runs it.</summary>
public sealed class UsersPageTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private static readonly TimeSpan Live = TimeSpan.FromSeconds(30);

    private static BunitContext NewContext(AsyncServiceScope scope)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddFallbackServiceProvider(scope.ServiceProvider);
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }

    private async Task<(ClaimsPrincipal Admin, IRenderedComponent<UsersPage> Page)> RenderAsAdministratorAsync(BunitContext ctx, string adminName)
    {
        await factory.CreateUserAsync(adminName, PortalRoles.Administrator);
        var admin = await factory.PrincipalForAsync(adminName);
        var page = ctx.Render<UsersPage>(p => p.AddCascadingValue(Task.FromResult(new AuthenticationState(admin))));
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-user-row='{adminName}']")), Live);
        return (admin, page);
    }

    [Fact]
    public async Task A_role_picked_and_create_clicked_in_the_same_dispatch_make_an_invitation_with_the_picked_role()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await using var ctx = NewContext(scope);
        var (_, page) = await RenderAsAdministratorAsync(ctx, "race-admin");
        page.Find("#invite-user-name").Input("race-invitee");

        // The pick and the click reach the circuit back to back: the click is dispatched without waiting for the
        // change to finish, as when a person picks a role and clicks at once. The role shown must be the role created.
        // Both events are raised in one dispatcher turn, so nothing else runs between them; the button is looked up
        // after the change because the change re-renders it (new handler ids), as the browser's DOM would be.
        await page.InvokeAsync(() =>
        {
            var pick = page.Find("select#invite-role").ChangeAsync(new ChangeEventArgs { Value = PortalRoles.Approver });
            var click = page.FindAll("button").Single(b => b.TextContent.Contains("Create invitation link", StringComparison.Ordinal)).ClickAsync(new MouseEventArgs());
            return Task.WhenAll(pick, click);
        });

        page.WaitForAssertion(() => Assert.Contains("race-invitee (Approver)", page.Find("[data-invitation-created]").TextContent, StringComparison.Ordinal), Live);
        Assert.Equal(PortalRoles.Approver, page.Find("select#invite-role").GetAttribute("value"));
        Assert.Contains("Approver", page.Find("[data-invitation-row='race-invitee']").TextContent, StringComparison.Ordinal);
        var stored = await factory.WithDbAsync(db => db.Invitations.AsNoTracking().SingleAsync(i => i.UserName == "race-invitee"));
        Assert.Equal(PortalRoles.Approver, stored.Role);
    }

    [Fact]
    public async Task The_role_selects_are_native_comboboxes_named_by_their_labels_with_the_current_role_selected()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await using var ctx = NewContext(scope);
        await factory.CreateUserAsync("labelled-operator", PortalRoles.Operator);
        var (_, page) = await RenderAsAdministratorAsync(ctx, "labelled-admin");

        var invite = page.Find("select#invite-role");
        Assert.Equal("Role", page.Find("label[for='invite-role']").TextContent.Trim());
        Assert.Equal(PortalRoles.All, invite.QuerySelectorAll("option").Select(o => o.TextContent.Trim()));
        Assert.Equal(PortalRoles.Viewer, invite.QuerySelector("option[selected]")!.TextContent.Trim());
        Assert.Contains("Sees setups", page.Find(".cc-role-help").TextContent, StringComparison.Ordinal);

        var row = page.Find("[data-user-row='labelled-operator'] select");
        var label = page.Find($"label[for='{row.Id}']");
        Assert.Equal("Role of labelled-operator", label.TextContent.Trim());
        Assert.Contains("cc-visually-hidden", label.ClassList); // the column header shows it; screen readers hear it per row
        Assert.Equal(PortalRoles.Operator, row.QuerySelector("option[selected]")!.TextContent.Trim());

        // Picking another role in the table changes the user's role at once.
        row.Change(PortalRoles.Approver);
        page.WaitForAssertion(() => Assert.Equal(PortalRoles.Approver, page.Find("[data-user-row='labelled-operator'] option[selected]").TextContent.Trim()), Live);
    }
}
