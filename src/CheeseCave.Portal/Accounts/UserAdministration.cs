using System.Security.Claims;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Accounts;

public sealed record UserSummary(string Id, string UserName, string Role, bool IsDisabled, bool IsLockedOut, DateTimeOffset CreatedAt, bool IsYou);

public sealed record InvitationSummary(int Id, string UserName, string Role, string InvitedBy, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>The new invitation's one-time token; only its hash is stored, so this is the only time it can be shown.</summary>
public sealed record CreatedInvitation(string Token, string UserName, string Role, DateTimeOffset ExpiresAt);

/// <summary>
/// User management for administrators: users with roles and state, invitations, role changes, disable/enable.
/// Every call re-checks in the database that the caller is an enabled Administrator whose session is current,
/// so a page left open after a demotion cannot act. Each call uses its own scope (a circuit outlives a request)
/// and its own transaction, which also serializes the "last administrator" checks.
/// </summary>
public sealed class UserAdministration(IServiceScopeFactory scopes, TimeProvider time, IOptions<IdentityOptions> identityOptions, ICallerAuthorization authorization)
{
    public static readonly TimeSpan InvitationLifetime = TimeSpan.FromDays(7);

    public async Task<IReadOnlyList<UserSummary>> ListUsersAsync(ClaimsPrincipal caller, CancellationToken cancellationToken = default)
    {
        await using var session = await OpenAsync(caller, cancellationToken).ConfigureAwait(false);
        if (session.Administrator is null)
        {
            throw new UnauthorizedAccessException("Only administrators can list users.");
        }

        var roles = await RolesByUserAsync(session.Db, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var users = await session.Db.Users.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. users
            .OrderBy(u => u.UserName, StringComparer.OrdinalIgnoreCase)
            .Select(u => new UserSummary(u.Id, u.UserName ?? u.Id, roles.GetValueOrDefault(u.Id, "(none)"), u.IsDisabled,
                u.LockoutEnd is { } end && end > now, u.CreatedAt, u.Id == session.Administrator.Id))];
    }

    public async Task<IReadOnlyList<InvitationSummary>> ListOpenInvitationsAsync(ClaimsPrincipal caller, CancellationToken cancellationToken = default)
    {
        await using var session = await OpenAsync(caller, cancellationToken).ConfigureAwait(false);
        if (session.Administrator is null)
        {
            throw new UnauthorizedAccessException("Only administrators can list invitations.");
        }

        var now = time.GetUtcNow();
        var open = await session.Db.Invitations.AsNoTracking()
            .Where(i => i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now)
            .OrderBy(i => i.CreatedAt)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. open.Select(i => new InvitationSummary(i.Id, i.UserName, i.Role, i.CreatedBy, i.CreatedAt, i.ExpiresAt))];
    }

    public async Task<(AccountResult Result, CreatedInvitation? Invitation)> CreateInvitationAsync(ClaimsPrincipal caller, string userName, string role, CancellationToken cancellationToken = default)
    {
        await using var session = await OpenAsync(caller, cancellationToken).ConfigureAwait(false);
        userName = (userName ?? "").Trim();
        if (session.Administrator is not { } admin)
        {
            return (await session.DenyAsync(AuditActions.InvitationCreated, userName, cancellationToken).ConfigureAwait(false), null);
        }

        if (!PortalRoles.IsKnown(role))
        {
            return (AccountResult.Fail($"'{role}' is not a role."), null);
        }

        var allowed = identityOptions.Value.User.AllowedUserNameCharacters;
        if (userName.Length is 0 or > 64 || (!string.IsNullOrEmpty(allowed) && userName.Any(c => !allowed.Contains(c, StringComparison.Ordinal))))
        {
            return (AccountResult.Fail("A user name has 1 to 64 characters: letters, digits and - . _ @ +"), null);
        }

        var normalized = session.Users.NormalizeName(userName);
        var now = time.GetUtcNow();
        if (await session.Users.FindByNameAsync(userName).ConfigureAwait(false) is not null)
        {
            return (AccountResult.Fail($"There is already a user named '{userName}'."), null);
        }

        var pending = await session.Db.Invitations.Where(i => i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now)
            .Select(i => i.UserName).ToListAsync(cancellationToken).ConfigureAwait(false);
        if (pending.Any(name => session.Users.NormalizeName(name) == normalized))
        {
            return (AccountResult.Fail($"'{userName}' already has an open invitation: revoke it first to send a new one."), null);
        }

        var token = OneTimeToken.Create();
        var invitation = new Invitation
        {
            TokenHash = OneTimeToken.Hash(token),
            UserName = userName,
            Role = role,
            CreatedById = admin.Id,
            CreatedBy = admin.UserName ?? admin.Id,
            CreatedAt = now,
            ExpiresAt = now + InvitationLifetime,
        };
        session.Db.Invitations.Add(invitation);
        session.Db.AuditEntries.Add(Actor.From(admin).Audit(now, AuditActions.InvitationCreated, userName, AuditOutcomes.Succeeded, $"role {role}"));
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (AccountResult.Success, new CreatedInvitation(token, userName, role, invitation.ExpiresAt));
    }

    public async Task<AccountResult> RevokeInvitationAsync(ClaimsPrincipal caller, int invitationId, CancellationToken cancellationToken = default)
    {
        await using var session = await OpenAsync(caller, cancellationToken).ConfigureAwait(false);
        if (session.Administrator is not { } admin)
        {
            return await session.DenyAsync(AuditActions.InvitationRevoked, $"invitation {invitationId}", cancellationToken).ConfigureAwait(false);
        }

        var now = time.GetUtcNow();
        var invitation = await session.Db.Invitations.SingleOrDefaultAsync(i => i.Id == invitationId, cancellationToken).ConfigureAwait(false);
        if (invitation is null || !invitation.IsOpen(now))
        {
            return AccountResult.Fail("That invitation is no longer open.");
        }

        invitation.RevokedAt = now;
        session.Db.AuditEntries.Add(Actor.From(admin).Audit(now, AuditActions.InvitationRevoked, invitation.UserName, AuditOutcomes.Succeeded, $"role {invitation.Role}"));
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return AccountResult.Success;
    }

    public async Task<AccountResult> ChangeRoleAsync(ClaimsPrincipal caller, string userId, string role, CancellationToken cancellationToken = default)
    {
        await using var session = await OpenAsync(caller, cancellationToken).ConfigureAwait(false);
        if (session.Administrator is not { } admin)
        {
            return await session.DenyAsync(AuditActions.UserRoleChanged, userId, cancellationToken).ConfigureAwait(false);
        }

        if (!PortalRoles.IsKnown(role))
        {
            return AccountResult.Fail($"'{role}' is not a role.");
        }

        var target = await session.Users.FindByIdAsync(userId).ConfigureAwait(false);
        if (target is null)
        {
            return AccountResult.Fail("That user no longer exists.");
        }

        var current = (await session.Users.GetRolesAsync(target).ConfigureAwait(false)).ToList();
        var from = current.FirstOrDefault() ?? "(none)";
        if (current.Count == 1 && current[0] == role)
        {
            return AccountResult.Success;
        }

        if (current.Contains(PortalRoles.Administrator) && role != PortalRoles.Administrator && !target.IsDisabled
            && await CountEnabledAdministratorsAsync(session.Db, cancellationToken).ConfigureAwait(false) <= 1)
        {
            return AccountResult.Fail($"{target.UserName} is the last administrator: make someone else an administrator first.");
        }

        var removed = await session.Users.RemoveFromRolesAsync(target, current).ConfigureAwait(false);
        var added = removed.Succeeded ? await session.Users.AddToRoleAsync(target, role).ConfigureAwait(false) : removed;
        if (!added.Succeeded)
        {
            return AccountResult.Fail([.. added.Errors.Select(e => e.Description)]);
        }

        // A new stamp ends the user's sessions at their next check, so a lower role takes effect everywhere.
        await session.Users.UpdateSecurityStampAsync(target).ConfigureAwait(false);
        session.Db.AuditEntries.Add(Actor.From(admin).Audit(time.GetUtcNow(), AuditActions.UserRoleChanged, target.UserName, AuditOutcomes.Succeeded, $"{from} → {role}"));
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return AccountResult.Success;
    }

    public async Task<AccountResult> SetDisabledAsync(ClaimsPrincipal caller, string userId, bool disabled, CancellationToken cancellationToken = default)
    {
        var action = disabled ? AuditActions.UserDisabled : AuditActions.UserEnabled;
        await using var session = await OpenAsync(caller, cancellationToken).ConfigureAwait(false);
        if (session.Administrator is not { } admin)
        {
            return await session.DenyAsync(action, userId, cancellationToken).ConfigureAwait(false);
        }

        var target = await session.Users.FindByIdAsync(userId).ConfigureAwait(false);
        if (target is null)
        {
            return AccountResult.Fail("That user no longer exists.");
        }

        if (target.IsDisabled == disabled)
        {
            return AccountResult.Success;
        }

        if (disabled && target.Id == admin.Id)
        {
            return AccountResult.Fail("You cannot disable your own account.");
        }

        if (disabled && await session.Users.IsInRoleAsync(target, PortalRoles.Administrator).ConfigureAwait(false)
            && await CountEnabledAdministratorsAsync(session.Db, cancellationToken).ConfigureAwait(false) <= 1)
        {
            return AccountResult.Fail($"{target.UserName} is the last administrator and cannot be disabled.");
        }

        target.IsDisabled = disabled;
        var updated = await session.Users.UpdateSecurityStampAsync(target).ConfigureAwait(false); // also saves IsDisabled
        if (!updated.Succeeded)
        {
            return AccountResult.Fail([.. updated.Errors.Select(e => e.Description)]);
        }

        session.Db.AuditEntries.Add(Actor.From(admin).Audit(time.GetUtcNow(), action, target.UserName, AuditOutcomes.Succeeded));
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return AccountResult.Success;
    }

    private static async Task<Dictionary<string, string>> RolesByUserAsync(PortalDbContext db, CancellationToken cancellationToken)
    {
        var pairs = await (from userRole in db.UserRoles
                           join role in db.Roles on userRole.RoleId equals role.Id
                           select new { userRole.UserId, role.Name }).ToListAsync(cancellationToken).ConfigureAwait(false);

        // One role per user; should there ever be several, show the highest.
        return pairs.GroupBy(p => p.UserId).ToDictionary(
            g => g.Key,
            g => g.Select(p => p.Name ?? "").OrderByDescending(name => PortalRoles.All.ToList().IndexOf(name)).First(),
            StringComparer.Ordinal);
    }

    private static Task<int> CountEnabledAdministratorsAsync(PortalDbContext db, CancellationToken cancellationToken) =>
        (from userRole in db.UserRoles
         join role in db.Roles on userRole.RoleId equals role.Id
         join user in db.Users on userRole.UserId equals user.Id
         where role.Name == PortalRoles.Administrator && !user.IsDisabled
         select user.Id).CountAsync(cancellationToken);

    private async Task<Session> OpenAsync(ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // The one rule for "may act with this role now" (enabled, current session, role in the database).
        var administrator = await authorization.RequireAsync(caller, PortalRoles.Administrator, cancellationToken).ConfigureAwait(false) is { Id: { } id }
            ? await users.FindByIdAsync(id).ConfigureAwait(false)
            : null;
        return new Session(scope, transaction, db, users, administrator, Actor.From(caller), time);
    }

    private sealed class Session(
        AsyncServiceScope scope,
        Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction,
        PortalDbContext db,
        UserManager<PortalUser> users,
        PortalUser? administrator,
        Actor caller,
        TimeProvider time) : IAsyncDisposable
    {
        public PortalDbContext Db => db;

        public UserManager<PortalUser> Users => users;

        /// <summary>The caller, when they are an enabled Administrator with a current session; otherwise null.</summary>
        public PortalUser? Administrator => administrator;

        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        public async Task<AccountResult> DenyAsync(string action, string? target, CancellationToken cancellationToken)
        {
            db.AuditEntries.Add(caller.Audit(time.GetUtcNow(), action, target, AuditOutcomes.Denied, "caller is not an administrator"));
            await CommitAsync(cancellationToken).ConfigureAwait(false);
            return AccountResult.NotAllowed;
        }

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }
}
