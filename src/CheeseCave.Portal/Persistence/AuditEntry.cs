using CheeseCave.Portal.Auditing;

namespace CheeseCave.Portal.Persistence;

/// <summary>
/// One line of the audit log: who did what to which target, when, and how it ended. Rows are only ever added:
/// <see cref="PortalDbContext"/> refuses to update or delete them and database triggers back that up.
/// Never put a secret (password, token, key) in any field.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>The acting user's id, when the actor is a known user.</summary>
    public string? ActorId { get; set; }

    /// <summary>The acting user's name, <c>anonymous</c> or <c>system</c>.</summary>
    public string Actor { get; set; } = "";

    /// <summary>A stable verb from <see cref="AuditActions"/>.</summary>
    public string Action { get; set; } = "";

    /// <summary>What the action was about, e.g. a user name or a key id.</summary>
    public string? Target { get; set; }

    /// <summary>A stable word from <see cref="AuditOutcomes"/>.</summary>
    public string Outcome { get; set; } = "";

    /// <summary>A short, non-secret explanation (e.g. "Viewer → Operator", "locked out").</summary>
    public string? Detail { get; set; }

    /// <summary>The trace id of the request or circuit event that made the change.</summary>
    public string? CorrelationId { get; set; }
}

public static class AuditActions
{
    public const string SignIn = "sign-in";
    public const string SignOut = "sign-out";
    public const string SetupCompleted = "setup.complete";
    public const string SetupLinkIssued = "setup.link-issued";
    public const string InvitationCreated = "invitation.create";
    public const string InvitationAccepted = "invitation.accept";
    public const string InvitationRevoked = "invitation.revoke";
    public const string UserRoleChanged = "user.role-change";
    public const string UserDisabled = "user.disable";
    public const string UserEnabled = "user.enable";
    public const string KeyStored = "key.store";
    public const string SetupCreated = "dps-setup.create";
    public const string SetupDpsCreated = "dps-setup.dps-create";
    public const string SetupDpsSelected = "dps-setup.dps-select";
    public const string SetupHubCreated = "dps-setup.hub-create";
    public const string SetupHubLinked = "dps-setup.hub-link";
    public const string SetupAllocationPolicy = "dps-setup.allocation-policy";
    public const string SetupStepChanged = "dps-setup.step";
    public const string SetupCaGenerated = "dps-setup.ca-generate";
    public const string SetupCertificateDownloaded = "dps-setup.certificate-download";
    public const string SetupCaUploaded = "dps-setup.ca-upload";
    public const string SetupCaVerified = "dps-setup.ca-verify";
    public const string SetupEnrollmentGroupSaved = "dps-setup.enrollment-group-save";
    public const string SetupDevicesIssued = "dps-setup.devices-issue";
    public const string SetupDeviceFileDownloaded = "dps-setup.device-download";
    public const string SetupTestRegistration = "dps-setup.test-registration";
    public const string CertificatesExported = "certificates.export";
    public const string CertificateExpiryNotified = "certificates.expiry-notify";
}

public static class AuditOutcomes
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Denied = "denied";
}
