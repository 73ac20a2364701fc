namespace CheeseCave.Portal.Approvals;

/// <summary>Audit verbs of the approval flow (beside <see cref="Persistence.AuditActions"/>).</summary>
public static class ApprovalAuditActions
{
    public const string Requested = "approval.request";
    public const string Approved = "approval.approve";
    public const string Rejected = "approval.reject";
    public const string Cancelled = "approval.cancel";
    public const string Expired = "approval.expire";
    public const string Applied = "approval.apply";
    public const string SecretRevealed = "approval.secret-reveal";
    public const string KeyExported = "dps-setup.private-key-export";
    public const string KeyExportDownloaded = "dps-setup.private-key-download";
    public const string EnrollmentGroupDeleted = "dps-setup.enrollment-group-delete";

    /// <summary>A key stored for a request that ended unapplied (or was never recorded) was deleted.</summary>
    public const string StoredKeyDeleted = "key.delete";
}
