using Microsoft.AspNetCore.Authorization;

namespace CheeseCave.Portal.Security;

/// <summary>Authorization policy names: "at least this role". Use them on pages, endpoints and in services.</summary>
public static class PortalPolicies
{
    public const string RequireViewer = "RequireViewer";
    public const string RequireOperator = "RequireOperator";
    public const string RequireApprover = "RequireApprover";
    public const string RequireAdministrator = "RequireAdministrator";

    public static void Add(AuthorizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        options.AddPolicy(RequireViewer, p => p.RequireAuthenticatedUser().RequireRole(PortalRoles.AtLeast(PortalRoles.Viewer)));
        options.AddPolicy(RequireOperator, p => p.RequireAuthenticatedUser().RequireRole(PortalRoles.AtLeast(PortalRoles.Operator)));
        options.AddPolicy(RequireApprover, p => p.RequireAuthenticatedUser().RequireRole(PortalRoles.AtLeast(PortalRoles.Approver)));
        options.AddPolicy(RequireAdministrator, p => p.RequireAuthenticatedUser().RequireRole(PortalRoles.Administrator));

        // Everything needs a signed-in user unless it says [AllowAnonymous] (sign-in, setup and invitation pages,
        // static assets, /healthz, the emulator's public trust bundle).
        options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
    }
}
