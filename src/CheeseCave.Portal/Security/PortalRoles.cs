using Microsoft.AspNetCore.Authorization;

namespace CheeseCave.Portal.Security;

/// <summary>The four roles, lowest first. Each role includes what the roles below it may do.</summary>
public static class PortalRoles
{
    public const string Viewer = "Viewer";
    public const string Operator = "Operator";
    public const string Approver = "Approver";
    public const string Administrator = "Administrator";

    /// <summary>Lowest to highest.</summary>
    public static IReadOnlyList<string> All { get; } = [Viewer, Operator, Approver, Administrator];

    public static bool IsKnown(string? role) => role is not null && All.Contains(role, StringComparer.Ordinal);

    /// <summary>The role itself and every role above it.</summary>
    public static string[] AtLeast(string role)
    {
        var index = All.ToList().IndexOf(role);
        return index < 0 ? throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown role.") : [.. All.Skip(index)];
    }

    public static string Describe(string role) => role switch
    {
        Viewer => "Sees setups and certificates.",
        Operator => "Also prepares setups and issues device certificates.",
        Approver => "Also approves colleagues' requests and reads the audit trail.",
        Administrator => "Also manages users and invitations.",
        _ => "",
    };
}

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
