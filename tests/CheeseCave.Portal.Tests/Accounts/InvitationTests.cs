using System.Net;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Accounts;

public sealed class InvitationTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private UserAdministration Administration => factory.Services.GetRequiredService<UserAdministration>();

    private static Dictionary<string, string> PasswordFields(string password) => new()
    {
        ["Input.Password"] = password,
        ["Input.ConfirmPassword"] = password,
    };

    [Fact]
    public async Task An_invited_operator_chooses_a_password_once_and_signs_in_with_that_role()
    {
        await factory.CreateUserAsync("inviting-admin", PortalRoles.Administrator);
        var (result, invitation) = await Administration.CreateInvitationAsync(await factory.PrincipalForAsync("inviting-admin"), "olivia", PortalRoles.Operator);
        Assert.True(result.Succeeded, result.ErrorText);
        Assert.NotNull(invitation);
        Assert.True(OneTimeToken.LooksValid(invitation.Token));
        Assert.InRange(invitation.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromDays(6.99), TimeSpan.FromDays(7));

        // Only the hash is stored.
        var stored = await factory.WithDbAsync(db => db.Invitations.AsNoTracking().SingleAsync(i => i.UserName == "olivia"));
        Assert.Equal(OneTimeToken.Hash(invitation.Token), stored.TokenHash);

        var path = "/invite/" + invitation.Token;
        using var invitee = factory.CreatePortalClient();
        var page = await Forms.GetPageAsync(invitee, path);
        Assert.Contains("data-invite-user>olivia<", page, StringComparison.Ordinal);
        Assert.Contains("data-invite-role=\"Operator\"", page, StringComparison.Ordinal);
        Assert.Contains("inviting-admin invited you", page, StringComparison.Ordinal);

        using (var mismatch = await Forms.SubmitAsync(invitee, path, "invite", new Dictionary<string, string>
        {
            ["Input.Password"] = TestPasswords.Default,
            ["Input.ConfirmPassword"] = "something else entirely",
        }))
        {
            Assert.Equal(HttpStatusCode.OK, mismatch.StatusCode);
            Assert.Contains("The two passwords differ.", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var accepted = await Forms.SubmitAsync(invitee, path, "invite", PasswordFields(TestPasswords.Default)))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
            Assert.Equal("/account/login", Forms.RedirectPath(accepted));
        }

        // The status message travels in a short-lived cookie, not in the URL.
        var login = await Forms.GetPageAsync(invitee, "/account/login");
        Assert.Contains("Your account olivia is ready.", login, StringComparison.Ordinal);

        using (var signedIn = await Forms.SignInAsync(invitee, "olivia", TestPasswords.Default))
        {
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        }

        Assert.Contains("data-user=\"olivia\"", await Forms.GetPageAsync(invitee, "/"), StringComparison.Ordinal);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var olivia = await users.FindByNameAsync("olivia");
            Assert.NotNull(olivia);
            Assert.Equal([PortalRoles.Operator], await users.GetRolesAsync(olivia));
        }

        // Spent: the page says so and a second account cannot be made with it.
        using var second = factory.CreatePortalClient();
        Assert.Contains("This invitation cannot be used", await Forms.GetPageAsync(second, path), StringComparison.Ordinal);
        Assert.False((await factory.Services.GetRequiredService<AccountOnboarding>().AcceptInvitationAsync(invitation.Token, "another long password")).Succeeded);

        var audit = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Target == "olivia").ToListAsync());
        Assert.Contains(audit, a => a.Action == AuditActions.InvitationCreated && a.Actor == "inviting-admin" && a.Detail == "role Operator");
        Assert.Contains(audit, a => a.Action == AuditActions.InvitationAccepted && a.Actor == "olivia" && a.Outcome == AuditOutcomes.Succeeded);
    }

    [Fact]
    public async Task Revoked_and_expired_invitations_cannot_be_used()
    {
        await factory.CreateUserAsync("revoking-admin", PortalRoles.Administrator);
        var admin = await factory.PrincipalForAsync("revoking-admin");
        var (_, revoked) = await Administration.CreateInvitationAsync(admin, "revoked-invitee", PortalRoles.Viewer);
        Assert.NotNull(revoked);

        var open = await Administration.ListOpenInvitationsAsync(admin);
        var row = Assert.Single(open, i => i.UserName == "revoked-invitee");
        Assert.True((await Administration.RevokeInvitationAsync(admin, row.Id)).Succeeded);
        Assert.DoesNotContain(await Administration.ListOpenInvitationsAsync(admin), i => i.UserName == "revoked-invitee");

        using var client = factory.CreatePortalClient();
        Assert.Contains("This invitation cannot be used", await Forms.GetPageAsync(client, "/invite/" + revoked.Token), StringComparison.Ordinal);

        // A revoked name can be invited again.
        var (again, _) = await Administration.CreateInvitationAsync(admin, "revoked-invitee", PortalRoles.Viewer);
        Assert.True(again.Succeeded, again.ErrorText);
        var (duplicate, _) = await Administration.CreateInvitationAsync(admin, "REVOKED-invitee", PortalRoles.Operator);
        Assert.False(duplicate.Succeeded);

        var (_, expiring) = await Administration.CreateInvitationAsync(admin, "late-invitee", PortalRoles.Viewer);
        Assert.NotNull(expiring);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
            var invitation = await db.Invitations.SingleAsync(i => i.UserName == "late-invitee");
            invitation.ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1);
            await db.SaveChangesAsync();
        }

        Assert.Contains("This invitation cannot be used", await Forms.GetPageAsync(client, "/invite/" + expiring.Token), StringComparison.Ordinal);
        Assert.False((await factory.Services.GetRequiredService<AccountOnboarding>().AcceptInvitationAsync(expiring.Token, TestPasswords.Default)).Succeeded);
    }

    [Fact]
    public async Task Invitations_refuse_taken_names_and_unknown_roles()
    {
        await factory.CreateUserAsync("naming-admin", PortalRoles.Administrator);
        var admin = await factory.PrincipalForAsync("naming-admin");

        Assert.False((await Administration.CreateInvitationAsync(admin, "naming-admin", PortalRoles.Viewer)).Result.Succeeded);
        Assert.False((await Administration.CreateInvitationAsync(admin, "fresh-name", "Superuser")).Result.Succeeded);
        Assert.False((await Administration.CreateInvitationAsync(admin, "has space", PortalRoles.Viewer)).Result.Succeeded);
        Assert.False((await Administration.CreateInvitationAsync(admin, "", PortalRoles.Viewer)).Result.Succeeded);
    }
}
