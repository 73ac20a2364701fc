using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Accounts;

/// <summary>An open invitation, as the invitee sees it.</summary>
public sealed record InvitationView(string UserName, string Role, DateTimeOffset ExpiresAt, string InvitedBy);

/// <summary>
/// The anonymous side of local accounts: the first-run setup link and invitation links. Every method runs in its
/// own scope and transaction, so a link is consumed exactly once even when two requests race.
/// </summary>
public sealed class AccountOnboarding(IServiceScopeFactory scopes, TimeProvider time)
{
    public const string LinkUnusable = "This link is not valid: it has been used already, has expired or was replaced. Ask an administrator for a new one.";

    public async Task<bool> IsSetupLinkValidAsync(string? token, CancellationToken cancellationToken = default)
    {
        if (!OneTimeToken.LooksValid(token))
        {
            return false;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        return await FindOpenSetupTokenAsync(db, token!, cancellationToken).ConfigureAwait(false) is not null
            && !await db.Users.AnyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the first administrator with the user's own password and retires the link.</summary>
    public async Task<(AccountResult Result, PortalUser? User)> CompleteSetupAsync(string? token, string userName, string password, CancellationToken cancellationToken = default)
    {
        if (!OneTimeToken.LooksValid(token))
        {
            return (AccountResult.Fail(LinkUnusable), null);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        var now = time.GetUtcNow();
        var setupToken = await FindOpenSetupTokenAsync(db, token!, cancellationToken).ConfigureAwait(false);
        if (setupToken is null || await db.Users.AnyAsync(cancellationToken).ConfigureAwait(false))
        {
            db.AuditEntries.Add(Actor.Anonymous.Audit(now, AuditActions.SetupCompleted, userName, AuditOutcomes.Denied, "setup link not valid"));
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return (AccountResult.Fail(LinkUnusable), null);
        }

        // The link is spent first, by one conditional update: of two portal instances (or two tabs) posting it at
        // once, one gets it; the other is told the link is used. A failure below rolls this back with the rest.
        if (!await SpendAsync(db.SetupTokens.Where(t => t.Id == setupToken.Id && t.UsedAt == null), t => t.UsedAt, now, cancellationToken).ConfigureAwait(false))
        {
            return (AccountResult.Fail(LinkUnusable), null);
        }

        var user = new PortalUser { UserName = userName.Trim(), CreatedAt = now };
        var created = await CreateUserAsync(users, user, password, PortalRoles.Administrator).ConfigureAwait(false);
        if (!created.Succeeded)
        {
            return (created, null);
        }

        db.AuditEntries.Add(Actor.From(user).Audit(now, AuditActions.SetupCompleted, user.UserName, AuditOutcomes.Succeeded, "first administrator created"));
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (AccountResult.Success, user);
    }

    public async Task<InvitationView?> FindInvitationAsync(string? token, CancellationToken cancellationToken = default)
    {
        if (!OneTimeToken.LooksValid(token))
        {
            return null;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var invitation = await FindOpenInvitationAsync(db, token!, cancellationToken).ConfigureAwait(false);
        return invitation is null ? null : new InvitationView(invitation.UserName, invitation.Role, invitation.ExpiresAt, invitation.CreatedBy);
    }

    /// <summary>Creates the invited user with the invitation's name and role and the user's own password.</summary>
    public async Task<AccountResult> AcceptInvitationAsync(string? token, string password, CancellationToken cancellationToken = default)
    {
        if (!OneTimeToken.LooksValid(token))
        {
            return AccountResult.Fail(LinkUnusable);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        var now = time.GetUtcNow();
        var invitation = await FindOpenInvitationAsync(db, token!, cancellationToken).ConfigureAwait(false);
        if (invitation is null)
        {
            db.AuditEntries.Add(Actor.Anonymous.Audit(now, AuditActions.InvitationAccepted, null, AuditOutcomes.Denied, "invitation link not valid"));
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return AccountResult.Fail(LinkUnusable);
        }

        if (!await SpendAsync(db.Invitations.Where(i => i.Id == invitation.Id && i.AcceptedAt == null && i.RevokedAt == null), i => i.AcceptedAt, now, cancellationToken).ConfigureAwait(false))
        {
            return AccountResult.Fail(LinkUnusable);
        }

        var user = new PortalUser { UserName = invitation.UserName, CreatedAt = now };
        var created = await CreateUserAsync(users, user, password, invitation.Role).ConfigureAwait(false);
        if (!created.Succeeded)
        {
            return created;
        }

        invitation.AcceptedAt = now;
        invitation.AcceptedUserId = user.Id;
        db.AuditEntries.Add(Actor.From(user).Audit(now, AuditActions.InvitationAccepted, user.UserName, AuditOutcomes.Succeeded,
            $"joined as {invitation.Role}, invited by {invitation.CreatedBy}"));
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return AccountResult.Success;
    }

    /// <summary>Marks a one-time link used if nobody did yet; true when this call did.</summary>
    private static async Task<bool> SpendAsync<TLink>(IQueryable<TLink> open, System.Linq.Expressions.Expression<Func<TLink, DateTimeOffset?>> usedAt, DateTimeOffset now,
        CancellationToken cancellationToken)
        where TLink : class =>
        await open.ExecuteUpdateAsync(s => s.SetProperty(usedAt, now), cancellationToken).ConfigureAwait(false) == 1;

    internal static async Task<AccountResult> CreateUserAsync(UserManager<PortalUser> users, PortalUser user, string password, string role)
    {
        var created = await users.CreateAsync(user, password).ConfigureAwait(false);
        if (!created.Succeeded)
        {
            return AccountResult.Fail([.. created.Errors.Select(e => e.Description)]);
        }

        var added = await users.AddToRoleAsync(user, role).ConfigureAwait(false);
        return added.Succeeded ? AccountResult.Success : AccountResult.Fail([.. added.Errors.Select(e => e.Description)]);
    }

    private async Task<SetupToken?> FindOpenSetupTokenAsync(PortalDbContext db, string token, CancellationToken cancellationToken)
    {
        var hash = OneTimeToken.Hash(token);
        var now = time.GetUtcNow();
        return await db.SetupTokens.SingleOrDefaultAsync(t => t.TokenHash == hash && t.UsedAt == null && t.ExpiresAt > now, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Invitation?> FindOpenInvitationAsync(PortalDbContext db, string token, CancellationToken cancellationToken)
    {
        var hash = OneTimeToken.Hash(token);
        var now = time.GetUtcNow();
        return await db.Invitations.SingleOrDefaultAsync(
            i => i.TokenHash == hash && i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now, cancellationToken).ConfigureAwait(false);
    }
}
