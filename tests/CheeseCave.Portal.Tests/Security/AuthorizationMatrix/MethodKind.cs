namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

public enum MethodKind
{
    NotAnAction,
    Read,
    Download,
    Change,
}
