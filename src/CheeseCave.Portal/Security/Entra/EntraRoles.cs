using System.Security.Claims;

namespace CheeseCave.Portal.Security.Entra;

/// <summary>
/// Entra ID app roles → portal roles. The app registration defines four app roles whose <b>values</b> are exactly
/// <c>Viewer</c>, <c>Operator</c>, <c>Approver</c> and <c>Administrator</c> (case-sensitive, as Entra ID issues them
/// in the <c>roles</c> claim). Any other value is ignored, so a typo grants nothing rather than something.
/// </summary>
public static class EntraRoles
{
    /// <summary>The claim Entra ID puts app roles in; ASP.NET Core's inbound mapping may have renamed it to ClaimTypes.Role.</summary>
    public const string RolesClaim = "roles";

    /// <summary>Entra ID's object id of the user: stable, unique in the tenant, used as the actor id in the audit log.</summary>
    public const string ObjectIdClaim = "oid";

    private const string MappedObjectIdClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";

    /// <summary>The portal roles carried by <paramref name="principal"/>'s app-role claims, lowest first.</summary>
    public static IReadOnlyList<string> RolesOf(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var values = principal.Claims
            .Where(c => c.Type is RolesClaim or ClaimTypes.Role)
            .Select(c => c.Value)
            .ToHashSet(StringComparer.Ordinal);
        return [.. PortalRoles.All.Where(values.Contains)];
    }

    /// <summary>The highest portal role, or null when the user has none of the four app roles.</summary>
    public static string? HighestRole(ClaimsPrincipal principal) => RolesOf(principal) is { Count: > 0 } roles ? roles[^1] : null;

    /// <summary>True when the app roles include <paramref name="role"/> or a role above it (Viewer &lt; Operator &lt; Approver &lt; Administrator).</summary>
    public static bool HasAtLeast(ClaimsPrincipal principal, string role) =>
        RolesOf(principal).Intersect(PortalRoles.AtLeast(role), StringComparer.Ordinal).Any();

    /// <summary>
    /// Rewrites a freshly validated Entra ID identity into the shape the portal reads everywhere: app roles as the
    /// identity's role claims (so [Authorize(Policy)] and IsInRole work) holding only the four known values, the
    /// object id as NameIdentifier (the audit's actor id) and a readable name.
    /// </summary>
    public static void Normalize(ClaimsIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var roles = RolesOf(new ClaimsPrincipal(identity));
        foreach (var claim in identity.Claims.Where(c => c.Type is RolesClaim or ClaimTypes.Role || c.Type == identity.RoleClaimType).ToList())
        {
            identity.RemoveClaim(claim);
        }

        foreach (var role in roles)
        {
            identity.AddClaim(new Claim(identity.RoleClaimType, role));
        }

        // The audit log and the app bar show Identity.Name: fall back to the sign-in name, display name or e-mail
        // when the configured name claim type is not in the token.
        if (identity.Name is null
            && (identity.FindFirst("preferred_username") ?? identity.FindFirst("name") ?? identity.FindFirst(ClaimTypes.Email) ?? identity.FindFirst("email")) is { } name)
        {
            identity.AddClaim(new Claim(identity.NameClaimType, name.Value));
        }

        var objectId = identity.FindFirst(ObjectIdClaim)?.Value ?? identity.FindFirst(MappedObjectIdClaim)?.Value;
        if (objectId is not null)
        {
            foreach (var claim in identity.FindAll(ClaimTypes.NameIdentifier).ToList())
            {
                identity.RemoveClaim(claim);
            }

            identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, "entra:" + objectId));
        }
    }
}
