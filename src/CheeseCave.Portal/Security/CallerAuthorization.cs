using System.Security.Claims;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Security;

/// <summary>
/// The one server-side answer to "may this caller act with at least this role right now?". Services ask it on every
/// call, because a circuit (and its cached principal) may outlive a demotion, a disabled account or a sign-out
/// elsewhere. Pages hiding buttons is a convenience; this is the rule.
/// </summary>
public interface ICallerAuthorization
{
    /// <summary>The caller as an <see cref="Actor"/> when allowed; otherwise null.</summary>
    Task<Actor?> RequireAsync(ClaimsPrincipal caller, string role, CancellationToken cancellationToken = default);
}

/// <summary>
/// Local accounts: the caller must be an enabled user whose session carries the current security stamp (so role
/// changes, disabling and "sign out everywhere" take effect at once) and who holds at least the role in the database.
/// </summary>
public sealed class LocalAccountAuthorization(IServiceScopeFactory scopes, IOptions<IdentityOptions> identityOptions) : ICallerAuthorization
{
    public async Task<Actor?> RequireAsync(ClaimsPrincipal caller, string role, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (caller.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.GetUserAsync(caller).ConfigureAwait(false);
        if (user is null or { IsDisabled: true })
        {
            return null;
        }

        var stamp = caller.FindFirstValue(identityOptions.Value.ClaimsIdentity.SecurityStampClaimType);
        if (stamp != user.SecurityStamp)
        {
            return null;
        }

        var roles = await users.GetRolesAsync(user).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return roles.Intersect(PortalRoles.AtLeast(role), StringComparer.Ordinal).Any() ? Actor.From(user) : null;
    }
}
