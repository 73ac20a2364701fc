using System.Diagnostics;
using System.Security.Claims;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.Components.Authorization;

namespace CheeseCave.Portal.Auditing;

/// <summary>Who is acting, for attribution: a user, <c>anonymous</c> or <c>system</c>.</summary>
public sealed record Actor(string? Id, string Name)
{
    public static Actor System { get; } = new(null, "system");

    public static Actor Anonymous { get; } = new(null, "anonymous");

    public static Actor From(ClaimsPrincipal? principal) =>
        principal?.Identity?.IsAuthenticated == true
            ? new Actor(principal.FindFirstValue(ClaimTypes.NameIdentifier), principal.Identity.Name ?? "unknown")
            : Anonymous;

    public static Actor From(PortalUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new Actor(user.Id, user.UserName ?? user.Id);
    }

    public AuditEntry Audit(DateTimeOffset at, string action, string? target, string outcome, string? detail = null) => new()
    {
        At = at,
        ActorId = Id,
        Actor = Name,
        Action = action,
        Target = target is { Length: > 256 } ? target[..256] : target,
        Outcome = outcome,
        Detail = detail,
        CorrelationId = CorrelationIds.Current(),
    };
}

public static class CorrelationIds
{
    /// <summary>The current trace id (requests and circuit events that are traced), or a fresh one.</summary>
    public static string Current() =>
        Activity.Current is { } activity && activity.TraceId != default
            ? activity.TraceId.ToHexString()
            : ActivityTraceId.CreateRandom().ToHexString();
}

/// <summary>The acting user of the current request or circuit.</summary>
public interface ICurrentActor
{
    Task<Actor> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Reads the user from Blazor's authentication state (circuits and server-rendered pages), falling back to the
/// request's user for minimal-API endpoints, where the component authentication state is never set.
/// </summary>
public sealed class CurrentActor(AuthenticationStateProvider authenticationState, IHttpContextAccessor httpContextAccessor) : ICurrentActor
{
    public async Task<Actor> GetAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var state = await authenticationState.GetAuthenticationStateAsync().ConfigureAwait(false);
            return Actor.From(state.User);
        }
        catch (InvalidOperationException)
        {
            // "GetAuthenticationStateAsync was called before SetAuthenticationState": not a component render.
        }

        return httpContextAccessor.HttpContext?.User is { } user ? Actor.From(user) : Actor.System;
    }
}
