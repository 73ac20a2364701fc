namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

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
