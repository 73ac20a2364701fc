using System.Security.Claims;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;

namespace CheeseCave.Portal.Security.Entra;

/// <summary>
/// Entra ID: the caller must be signed in through Entra ID and hold at least the role among the app roles of the
/// signed-in principal. The portal keeps no user table in this mode; roles are assigned in Entra ID (Enterprise
/// applications → Users and groups) and take effect at the user's next sign-in. Removing a user's access in Entra
/// ID also stops their calls to Azure at once, because those run on their own token.
/// </summary>
public sealed class EntraCallerAuthorization : ICallerAuthorization
{
    public Task<Actor?> RequireAsync(ClaimsPrincipal caller, string role, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        cancellationToken.ThrowIfCancellationRequested();
        var allowed = caller.Identity?.IsAuthenticated == true && EntraRoles.HasAtLeast(caller, role);
        return Task.FromResult(allowed ? Actor.From(caller) : null);
    }
}
