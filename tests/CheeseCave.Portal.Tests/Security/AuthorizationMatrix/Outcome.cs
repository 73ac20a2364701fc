namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

public enum Outcome
{
    Allowed,
    Login,
    Denied,

    /// <summary>Allowed by role, refused because it is another user's (device keys: only who issued the batch).</summary>
    NotOwner,
    Unexpected,
}
