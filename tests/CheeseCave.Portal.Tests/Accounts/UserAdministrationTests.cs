using System.Net;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Accounts;

/// <summary>The rules behind the Users page, enforced in the service whatever the page shows.</summary>
public sealed class UserAdministrationTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private UserAdministration Administration => factory.Services.GetRequiredService<UserAdministration>();

    [Theory]
    [InlineData(PortalRoles.Viewer)]
    [InlineData(PortalRoles.Operator)]
    [InlineData(PortalRoles.Approver)]
    public async Task Non_administrators_are_refused_every_action_and_the_refusal_is_audited(string role)
    {
        var name = "not-admin-" + role.ToLowerInvariant();
        var user = await factory.CreateUserAsync(name, role);
        var caller = await factory.PrincipalForAsync(name);

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Administration.ListUsersAsync(caller));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Administration.ListOpenInvitationsAsync(caller));
        Assert.True((await Administration.CreateInvitationAsync(caller, name + "-friend", PortalRoles.Administrator)).Result.Denied);
        Assert.True((await Administration.ChangeRoleAsync(caller, user.Id, PortalRoles.Administrator)).Denied);
        Assert.True((await Administration.SetDisabledAsync(caller, user.Id, true)).Denied);
        Assert.True((await Administration.RevokeInvitationAsync(caller, 1)).Denied);

        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        Assert.Equal([role], await users.GetRolesAsync((await users.FindByIdAsync(user.Id))!));
        var denials = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Actor == name && a.Outcome == AuditOutcomes.Denied).CountAsync());
        Assert.Equal(4, denials);
    }

    [Fact]
    public async Task A_demoted_administrator_cannot_act_with_the_session_they_had()
    {
        await factory.CreateUserAsync("demoting-admin", PortalRoles.Administrator);
        var demoted = await factory.CreateUserAsync("demoted-admin", PortalRoles.Administrator);
        var staleSession = await factory.PrincipalForAsync("demoted-admin");

        Assert.True((await Administration.ChangeRoleAsync(await factory.PrincipalForAsync("demoting-admin"), demoted.Id, PortalRoles.Viewer)).Succeeded);

        // The old cookie still says Administrator; the service checks the database and the security stamp.
        Assert.True(staleSession.IsInRole(PortalRoles.Administrator));
        Assert.True((await Administration.CreateInvitationAsync(staleSession, "sneaky", PortalRoles.Administrator)).Result.Denied);
        var fresh = await factory.PrincipalForAsync("demoted-admin");
        Assert.True((await Administration.CreateInvitationAsync(fresh, "sneaky", PortalRoles.Administrator)).Result.Denied);
    }

    [Fact]
    public async Task Administrators_cannot_disable_themselves_or_remove_the_last_administrator()
    {
        // Its own portal, so that "the last administrator" is well defined.
        await using var portal = new PortalFactory();
        var root = await portal.CreateUserAsync("root", PortalRoles.Administrator);
        var administration = portal.Services.GetRequiredService<UserAdministration>();
        var caller = await portal.PrincipalForAsync("root");

        var disableSelf = await administration.SetDisabledAsync(caller, root.Id, true);
        Assert.False(disableSelf.Succeeded);
        Assert.Contains("your own account", disableSelf.ErrorText, StringComparison.Ordinal);

        var demoteLast = await administration.ChangeRoleAsync(caller, root.Id, PortalRoles.Operator);
        Assert.False(demoteLast.Succeeded);
        Assert.Contains("last administrator", demoteLast.ErrorText, StringComparison.Ordinal);

        // With a second administrator, root may step down; the other one then is the last.
        var second = await portal.CreateUserAsync("second", PortalRoles.Administrator);
        Assert.True((await administration.ChangeRoleAsync(caller, root.Id, PortalRoles.Operator)).Succeeded);
        var secondCaller = await portal.PrincipalForAsync("second");
        Assert.False((await administration.ChangeRoleAsync(secondCaller, second.Id, PortalRoles.Viewer)).Succeeded);

        var users = await administration.ListUsersAsync(secondCaller);
        Assert.Equal(["root", "second"], users.Select(u => u.UserName));
        Assert.Equal([PortalRoles.Operator, PortalRoles.Administrator], users.Select(u => u.Role));
        Assert.Equal([false, true], users.Select(u => u.IsYou));

        var audit = await portal.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Action == AuditActions.UserRoleChanged).ToListAsync());
        var change = Assert.Single(audit);
        Assert.Equal(("root", "root", "Administrator → Operator"), (change.Actor, change.Target, change.Detail));
    }

    [Fact]
    public async Task Changing_a_role_ends_the_users_sessions_so_the_new_role_applies()
    {
        await factory.CreateUserAsync("role-admin", PortalRoles.Administrator);
        var user = await factory.CreateUserAsync("role-changed", PortalRoles.Viewer);
        using var client = await factory.SignedInClientAsync("role-changed");
        var before = await factory.PrincipalForAsync("role-changed");

        Assert.True((await Administration.ChangeRoleAsync(await factory.PrincipalForAsync("role-admin"), user.Id, PortalRoles.Approver)).Succeeded);

        await using var scope = factory.Services.CreateAsyncScope();
        Assert.Null(await scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>().ValidateSecurityStampAsync(before));
        Assert.True((await factory.PrincipalForAsync("role-changed")).IsInRole(PortalRoles.Approver));
    }

    [Fact]
    public async Task The_users_page_lists_users_with_roles_and_state_for_an_administrator()
    {
        await factory.CreateUserAsync("listing-admin", PortalRoles.Administrator);
        var disabled = await factory.CreateUserAsync("listed-disabled", PortalRoles.Operator);
        Assert.True((await Administration.SetDisabledAsync(await factory.PrincipalForAsync("listing-admin"), disabled.Id, true)).Succeeded);

        using var client = await factory.SignedInClientAsync("listing-admin");
        using var response = await client.GetAsync(new Uri("/admin/users", UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data-user-row=\"listed-disabled\" data-state=\"disabled\"", html, StringComparison.Ordinal);
        Assert.Contains("data-user-row=\"listing-admin\" data-state=\"active\"", html, StringComparison.Ordinal);
    }
}
