namespace CheeseCave.Portal.Setups;

/// <summary>Audit action names of the CA import and proof-of-possession steps (beside <see cref="Persistence.AuditActions"/>).</summary>
public static class CaImportAuditActions
{
    public const string CaImported = "dps-setup.ca-import";
    public const string VerificationCodeGenerated = "dps-setup.ca-verification-code";
    public const string VerificationSubmitted = "dps-setup.ca-verify-manual";
    public const string VerificationDownloaded = "dps-setup.verification-download";
}
