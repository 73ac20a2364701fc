namespace CheeseCave.Portal.Persistence;

/// <summary>
/// A device certificate the portal signed from a setup's CA (step 9, a renewal, or a device's CSR): public material
/// and its life after day one (superseded by a renewal, revoked). The device's private key and PFX, when the portal
/// made them, exist once, encrypted in memory for a short download window, never here.
/// </summary>
public sealed class SetupDevice
{
    public int Id { get; set; }

    public int SetupId { get; set; }

    /// <summary>The leaf CN: the DPS registration id and the IoT Hub device id.</summary>
    public string RegistrationId { get; set; } = "";

    /// <summary>SHA-1, upper-case hex.</summary>
    public string ThumbprintSha1 { get; set; } = "";

    public string ThumbprintSha256 { get; set; } = "";

    public DateTimeOffset NotBefore { get; set; }

    public DateTimeOffset NotAfter { get; set; }

    /// <summary>The leaf certificate, PEM. Never a key.</summary>
    public string CertificatePem { get; set; } = "";

    /// <summary>What the device sends: the leaf followed by the CA certificates below the root, PEM.</summary>
    public string ChainPem { get; set; } = "";

    /// <summary>The issuing run; one ZIP per batch.</summary>
    public string BatchId { get; set; } = "";

    public string IssuedBy { get; set; } = "";

    public DateTimeOffset IssuedAt { get; set; }

    /// <summary>Serial number, upper-case hex as openssl prints it without colons.</summary>
    public string SerialNumber { get; set; } = "";

    /// <summary>The issuing CA's subject.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>"ECDSA P-256", "RSA 4096", …</summary>
    public string KeyType { get; set; } = "";

    /// <summary>Who made the key: the portal (the key was downloadable once) or the device (a CSR; the key never left it).</summary>
    public DeviceCertificateSource Source { get; set; } = DeviceCertificateSource.PortalKey;

    /// <summary>Who asked for it (for an approved request the requester, not the approver).</summary>
    public string RequestedBy { get; set; } = "";

    /// <summary>Who approved it, comma-separated; null when no approval was needed or it came from a grant.</summary>
    public string? ApprovedBy { get; set; }

    /// <summary>The issuance grant it was signed under (factory lines), if any.</summary>
    public int? GrantId { get; set; }

    /// <summary>The certificate this one renewed (same registration id), if any.</summary>
    public int? RenewsDeviceId { get; set; }

    /// <summary>Set when a renewal replaced this certificate.</summary>
    public int? SupersededByDeviceId { get; set; }

    public DateTimeOffset? SupersededAt { get; set; }

    /// <summary>Set while the registration id is blocked in DPS (a disabled individual enrollment) and the hub.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    public string? RevokedBy { get; set; }

    public string? RevocationReason { get; set; }
}

/// <summary>Where a device certificate's key was made.</summary>
public enum DeviceCertificateSource
{
    /// <summary>The portal made the key pair (handed out once, encrypted).</summary>
    PortalKey,

    /// <summary>The device sent a CSR; the portal never saw the key.</summary>
    DeviceCsr,
}
