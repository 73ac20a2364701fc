using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace CheeseCave.Portal.Security.Entra;

/// <summary>
/// Entra ID's counterpart of the local accounts' revalidating provider: an open circuit outlives its request, so
/// every minute it checks that the token cache still holds the user's account (Target Azure), the same rule the
/// cookie check applies to requests. The user comes from the circuit's authentication state, never HttpContext.
/// </summary>
internal sealed class EntraRevalidatingAuthenticationStateProvider(ILoggerFactory loggerFactory, EntraSessionCheck check)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authenticationState);
        return check.HasTokenCacheAccountAsync(authenticationState.User, cancellationToken);
    }
}
