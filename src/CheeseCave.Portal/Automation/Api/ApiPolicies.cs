using CheeseCave.Portal.Automation.Tokens;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Authorization;

namespace CheeseCave.Portal.Automation.Api;

/// <summary>
/// The API's authorization policies. Each names the token scheme only, so a browser cookie never authorizes an API
/// call (no cross-site request can use the user's session), and each asks for a scope and the role it needs; the
/// roles on a token caller are already the user's current ones capped by the token's scopes.
/// </summary>
public static class ApiPolicies
{
    public const string Read = "ApiRead";
    public const string Issue = "ApiIssue";
    public const string Operate = "ApiOperate";

    public static void Add(AuthorizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddPolicy(Read, p => p.AddAuthenticationSchemes(ApiTokenPrincipal.Scheme).RequireAuthenticatedUser()
            .RequireClaim(ApiTokenPrincipal.ScopeClaim, ApiTokenPrincipal.AllScopes).RequireRole(PortalRoles.AtLeast(PortalRoles.Viewer)));
        options.AddPolicy(Issue, p => p.AddAuthenticationSchemes(ApiTokenPrincipal.Scheme).RequireAuthenticatedUser()
            .RequireClaim(ApiTokenPrincipal.ScopeClaim, ApiTokenPrincipal.Issue).RequireRole(PortalRoles.AtLeast(PortalRoles.Operator)));
        options.AddPolicy(Operate, p => p.AddAuthenticationSchemes(ApiTokenPrincipal.Scheme).RequireAuthenticatedUser()
            .RequireClaim(ApiTokenPrincipal.ScopeClaim, ApiTokenPrincipal.Operate).RequireRole(PortalRoles.AtLeast(PortalRoles.Operator)));
    }

    /// <summary>The issue scope's policy, and the scope named in a 403.</summary>
    public static TBuilder RequireIssueScope<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(Issue).WithMetadata(new ApiScopeMetadata(ApiTokenPrincipal.Issue));

    /// <summary>The operate scope's policy (renewal, revocation, restore), and the scope named in a 403.</summary>
    public static TBuilder RequireOperateScope<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(Operate).WithMetadata(new ApiScopeMetadata(ApiTokenPrincipal.Operate));
}
