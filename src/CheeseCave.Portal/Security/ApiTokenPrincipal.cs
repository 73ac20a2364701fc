using System.Security.Claims;

namespace CheeseCave.Portal.Security;

/// <summary>
/// How a personal API token shows up as a caller: its own authentication scheme (bearer only, never a cookie), the
/// token's id and scopes as claims, and the user's roles capped by those scopes. The authentication handler builds
/// it from the database, or from a check at most <c>CheeseCave:Api:TokenCheckCacheFor</c> old (2 s by default; a token
/// revoked in this portal is dropped from it at once), so it carries the user's current state within that bound.
/// </summary>
public static class ApiTokenPrincipal
{
    public const string Scheme = "ApiToken";

    public const string TokenIdClaim = "cheesecave:api-token";

    public const string ScopeClaim = "cheesecave:scope";

    public const string Read = "read";

    public const string Issue = "issue";

    public const string Operate = "operate";

    public static IReadOnlyList<string> AllScopes { get; } = [Read, Issue, Operate];

    public static bool IsToken(ClaimsPrincipal? caller) =>
        caller?.Identity is { IsAuthenticated: true, AuthenticationType: Scheme };

    public static bool HasScope(ClaimsPrincipal caller, string scope)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.HasClaim(ScopeClaim, scope);
    }

    /// <summary>The highest role a token with these scopes may act with: read → Viewer, issue or operate → Operator. Never Approver.</summary>
    public static string HighestRole(IEnumerable<string> scopes) =>
        scopes.Any(s => s is Issue or Operate) ? PortalRoles.Operator : PortalRoles.Viewer;

    /// <summary>The user's roles that the token may use: those not above <see cref="HighestRole"/>.</summary>
    public static IReadOnlyList<string> CappedRoles(IEnumerable<string> userRoles, IReadOnlyCollection<string> scopes)
    {
        var ceiling = PortalRoles.All.ToList().IndexOf(HighestRole(scopes));
        var best = userRoles.Select(r => PortalRoles.All.ToList().IndexOf(r)).DefaultIfEmpty(-1).Max();
        // A user above the ceiling acts exactly at the ceiling; one below it keeps their own role.
        var effective = Math.Min(best, ceiling);
        return effective < 0 ? [] : [.. PortalRoles.All.Take(effective + 1)];
    }
}
