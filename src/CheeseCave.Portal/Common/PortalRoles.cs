namespace CheeseCave.Portal.Common;

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
