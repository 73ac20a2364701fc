namespace CheeseCave.Portal.Security.KeyCustody;

/// <summary>Where the Data Protection key ring is kept.</summary>
public enum KeyRingStore
{
    /// <summary>Files in the data folder for one instance on SQLite; the database otherwise.</summary>
    Auto,
    FileSystem,
    Database,
}

/// <summary>The <c>CheeseCave:KeyRing</c> section: where the key ring lies and what encrypts it at rest (docs/security.md §5).</summary>
public sealed class KeyRingOptions
{
    public const string SectionName = "CheeseCave:KeyRing";

    /// <summary>How many portal instances share the database (<c>CheeseCave:Cluster:Instances</c>, default 1; see ClusterOptions).</summary>
    public const string InstancesKey = "CheeseCave:Cluster:Instances";

    public KeyRingStore Store { get; set; } = KeyRingStore.Auto;

    public KeyRingCertificateOptions Certificate { get; set; } = new();
}

/// <summary>
/// The certificate (RSA, with its private key) that encrypts each key's secret before it is stored: a PFX file and its
/// password, or the thumbprint of a certificate in the current user's (or, on Windows, the machine's) "My" store.
/// </summary>
public sealed class KeyRingCertificateOptions
{
    public string? Path { get; set; }

    /// <summary>The PFX password; prefer the environment (<c>CheeseCave__KeyRing__Certificate__Password</c>) or <see cref="PasswordFile"/>.</summary>
    public string? Password { get; set; }

    /// <summary>A file holding the PFX password (a container secret), read once at start; its trailing line break is ignored.</summary>
    public string? PasswordFile { get; set; }

    public string? Thumbprint { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Path) || !string.IsNullOrWhiteSpace(Thumbprint);
}
