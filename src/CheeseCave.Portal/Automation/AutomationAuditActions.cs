namespace CheeseCave.Portal.Automation;

/// <summary>Audit action names of the automation API (tokens, grants, CSR signing).</summary>
public static class AutomationAuditActions
{
    public const string TokenCreated = "api-token.create";
    public const string TokenRevoked = "api-token.revoke";

    /// <summary>A request with a token that is unknown, expired, revoked, or whose user is disabled.</summary>
    public const string TokenRefused = "api-token.refused";
    public const string GrantRequested = "grant.create";
    public const string GrantRevoked = "grant.revoke";
    public const string CsrSigned = "grant.csr-sign";
}
