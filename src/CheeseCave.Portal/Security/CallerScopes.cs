using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;

namespace CheeseCave.Portal.Security;

/// <summary>
/// A DI scope of its own for work that must outlive the circuit or request that started it (long operations, applying
/// an approved request), in which services that ask "who is acting?" (the key store's audit entries) get the caller,
/// as they would inside the caller's circuit.
/// </summary>
public static class CallerScopes
{
    public static AsyncServiceScope CreateFor(IServiceScopeFactory scopes, ClaimsPrincipal caller)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        ArgumentNullException.ThrowIfNull(caller);
        var scope = scopes.CreateAsyncScope();
        if (scope.ServiceProvider.GetService<AuthenticationStateProvider>() is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(caller)));
        }

        return scope;
    }
}
