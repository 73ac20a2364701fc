namespace CheeseCave.Portal.Persistence;

/// <summary>
/// One cheese-cave setup: the wizard's progress and what it created or picked in Azure (or the emulator). Several
/// setups live side by side. No secrets: hub connection strings and CA keys are never stored here.
/// </summary>
public sealed class DpsSetup
{
    public int Id { get; set; }

    public string Name { get; set; } = "";

    public string CreatedBy { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public string UpdatedBy { get; set; } = "";

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The step the user last worked on (1-10), so reopening the setup resumes there.</summary>
    public int CurrentStep { get; set; } = 1;

    public string? SubscriptionId { get; set; }

    public string? ResourceGroup { get; set; }

    public string? DpsName { get; set; }

    public string? Location { get; set; }

    public string? IdScope { get; set; }

    public string? ServiceHost { get; set; }

    public string? DeviceHost { get; set; }

    /// <summary>ARM spelling: Hashed, GeoLatency or Static.</summary>
    public string? AllocationPolicy { get; set; }

    /// <summary>Linked hubs as "host (weight N)", comma-separated; the DPS itself is the source of truth.</summary>
    public string? LinkedHubs { get; set; }

    public int? RootCertificateId { get; set; }

    /// <summary>The X.509 enrollment group step 8 created or updated; the DPS is the source of truth for its settings.</summary>
    public string? EnrollmentGroupId { get; set; }

    /// <summary>When a test registration (step 10) last got a device assigned, and what it got; null before the first.</summary>
    public DateTimeOffset? LastTestAssignedAt { get; set; }

    /// <summary>"registration id → hub (substatus)" of that registration.</summary>
    public string? LastTestSummary { get; set; }

    public List<SetupCertificate> Certificates { get; set; } = [];
}

public enum SetupCertificateKind
{
    Root,
    Intermediate,
}

/// <summary>A CA certificate of a setup: public material plus a reference to its protected key, if the portal holds it.</summary>
public sealed class SetupCertificate
{
    public int Id { get; set; }

    public int SetupId { get; set; }

    public SetupCertificateKind Kind { get; set; }

    public string Subject { get; set; } = "";

    /// <summary>SHA-1, upper-case hex (what DPS shows).</summary>
    public string ThumbprintSha1 { get; set; } = "";

    public string ThumbprintSha256 { get; set; } = "";

    public DateTimeOffset NotBefore { get; set; }

    public DateTimeOffset NotAfter { get; set; }

    /// <summary>The certificate only, PEM. Never a key.</summary>
    public string Pem { get; set; } = "";

    /// <summary>The key's id in the ProtectedKeyStore, or null when the portal does not hold the key.</summary>
    public string? KeyId { get; set; }

    public string? DpsCertificateName { get; set; }

    public bool IsVerified { get; set; }

    public string CreatedBy { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
}
