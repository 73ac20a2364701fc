using System.Net;

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

/// <summary>The least access a page, endpoint sample or method needs.</summary>
public enum Access
{
    Public = -1,
    SignedIn = 1,
    Viewer = 2,
    Operator = 3,
    Approver = 4,
    Administrator = 5,
}

public enum Outcome
{
    Allowed,
    Login,
    Denied,

    /// <summary>Allowed by role, refused because it is another user's (device keys: only who issued the batch).</summary>
    NotOwner,
    Unexpected,
}

public sealed record PageRule(Access Least, HttpStatusCode? AllowedStatus = null);

/// <param name="Owner">Set for another user's material: the only caller allowed; other allowed roles get <see cref="Outcome.NotOwner"/>.</param>
public sealed record Sample(string Method, string Path, Access Least, HttpStatusCode? AllowedStatus = null, Caller? Owner = null);

public enum MethodKind
{
    NotAnAction,
    Read,
    Download,
    Change,
}
