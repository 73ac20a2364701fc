namespace CheeseCave.Portal.Persistence;

/// <summary>
/// A device certificate issued by step 9 from a setup's CA: public material only. The device's private key and PFX
/// exist once, encrypted in memory for a short download window (<see cref="Setups.DeviceKeyVault"/>), never here.
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
}
