namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>Audit action names of the CA rollover (beside <see cref="Persistence.AuditActions"/>).</summary>
public static class RolloverAuditActions
{
    public const string Started = "dps-setup.rollover-start";
    public const string Uploaded = "dps-setup.rollover-upload";
    public const string Verified = "dps-setup.rollover-verify";
    public const string Trusted = "dps-setup.rollover-trust";
    public const string Reissued = "dps-setup.rollover-reissue";
    public const string Retired = "dps-setup.rollover-retire";
    public const string Cancelled = "dps-setup.rollover-cancel";
    public const string KeysLost = "dps-setup.rollover-keys-lost";

    public static string For(RolloverStep step) => step switch
    {
        RolloverStep.Upload => Uploaded,
        RolloverStep.Prove => Verified,
        RolloverStep.Trust => Trusted,
        RolloverStep.Reissue => Reissued,
        _ => Retired,
    };
}
