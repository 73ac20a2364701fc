namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

/// <summary>Who calls. The roles are in rising order so "at least" is a comparison.</summary>
public enum Caller
{
    Anonymous = 0,
    Viewer = 2,
    Operator = 3,
    Approver = 4,
    Administrator = 5,

    /// <summary>Signed in as an Administrator, then disabled by another administrator.</summary>
    Disabled = 10,

    /// <summary>Signed in as an Administrator, then demoted to Viewer (which renews the security stamp).</summary>
    Lowered = 11,
}
