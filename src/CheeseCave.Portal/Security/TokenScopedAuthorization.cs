using System.Security.Claims;
using CheeseCave.Portal.Auditing;

namespace CheeseCave.Portal.Security;

/// <summary>
/// Wraps the installation's <see cref="ICallerAuthorization"/> so personal API tokens get the same answer as their user,
/// capped by the token's scopes. A token caller's roles were read from the database by the token handler for this request
/// or at most TokenCheckCacheFor earlier (disabled users and revoked or expired tokens never get that far) and already
/// carry the cap, so they
/// are taken as they are; every other caller goes to the wrapped check unchanged.
/// </summary>
public sealed class TokenScopedAuthorization(ICallerAuthorization inner) : ICallerAuthorization
{
    /// <summary>The installation's own check (local accounts or Entra ID), which every non-token caller gets.</summary>
    public ICallerAuthorization Inner => inner;

    public Task<Actor?> RequireAsync(ClaimsPrincipal caller, string role, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!ApiTokenPrincipal.IsToken(caller))
        {
            return inner.RequireAsync(caller, role, cancellationToken);
        }

        var allowed = PortalRoles.AtLeast(role).Any(caller.IsInRole);
        return Task.FromResult(allowed ? Actor.From(caller) : null);
    }
}
