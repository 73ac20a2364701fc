namespace CheeseCave.Portal.Persistence;

/// <summary>
/// One expiry notice for one certificate, threshold and channel: claimed before it is sent, so two checks running at
/// once (or a second portal on the same database) cannot both send it; the unique index decides who got the claim.
/// </summary>
public sealed class ExpiryNotification
{
    public long Id { get; set; }

    public ExpiryCertificateKind CertificateKind { get; set; }

    /// <summary>The SetupCertificates or SetupDevices row id.</summary>
    public int CertificateId { get; set; }

    public int SetupId { get; set; }

    /// <summary>"90d", "30d" (days left when it was crossed), or "expired".</summary>
    public string Threshold { get; set; } = "";

    /// <summary>"webhook" or "email".</summary>
    public string Channel { get; set; } = "";

    public ExpiryNotificationState State { get; set; }

    /// <summary>The certificate's end of validity when the notice was claimed.</summary>
    public DateTimeOffset NotAfter { get; set; }

    public DateTimeOffset ClaimedAt { get; set; }

    public DateTimeOffset? SentAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>Why the last attempt failed, in plain words (no secrets: never the webhook URL or a password).</summary>
    public string? Error { get; set; }
}

public enum ExpiryCertificateKind
{
    Ca,
    Device,
}

public enum ExpiryNotificationState
{
    /// <summary>A check is sending it now (or crashed while sending: claimable again after a while).</summary>
    Claimed,
    Sent,

    /// <summary>Every attempt failed; the next check tries again.</summary>
    Failed,
}
