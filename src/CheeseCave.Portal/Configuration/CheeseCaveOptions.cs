namespace CheeseCave.Portal.Configuration;

/// <summary>The <c>CheeseCave</c> configuration section.</summary>
public sealed class CheeseCaveOptions
{
    public const string SectionName = "CheeseCave";

    /// <summary>Where the portal keeps its data (relative paths are resolved against the content root).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>What the portal provisions against: the built-in emulator (default) or Azure.</summary>
    public ProvisioningTarget Target { get; set; } = ProvisioningTarget.Emulator;

    public EmbeddedEmulatorOptions Emulator { get; set; } = new();

    /// <summary>
    /// The address people use to reach the portal (e.g. behind a reverse proxy), for the first-run setup link.
    /// When empty, the first address the server listens on is used.
    /// </summary>
    public string? PublicUrl { get; set; }

    public SignInRateLimitOptions SignInRateLimit { get; set; } = new();

    public ClusterOptions Cluster { get; set; } = new();
    /// <summary>SQLite in the data folder (default) or PostgreSQL (see <see cref="DatabaseOptions"/>).</summary>
    public DatabaseOptions Database { get; set; } = new();

    public string ResolveDataDirectory(string contentRoot) => Path.GetFullPath(DataDirectory, contentRoot);
}

public enum ProvisioningTarget
{
    Emulator,
    Azure,
}

/// <summary>Where the embedded emulator listens: loopback by default, stable ports so devices can be pointed at it.</summary>
public sealed class EmbeddedEmulatorOptions
{
    public int HttpsPort { get; set; } = 5543;

    /// <summary>MQTT over TLS for devices; -1 turns MQTT off.</summary>
    public int MqttPort { get; set; } = 8883;

    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>Injected latency and failures (the emulator's Faults:*), for resilience drills and tests; none by default.</summary>
    public CheeseCave.Emulator.Hosting.FaultOptions Faults { get; set; } = new();

    /// <summary>
    /// How long the emulator's ARM operations (create, update, delete) take: "instant" (default) or "azure-like"
    /// (a few seconds each, to see the portal's progress as it is against Azure).
    /// </summary>
    public string Timing { get; set; } = CheeseCave.Emulator.Hosting.EmulatorTimings.Instant;
}

/// <summary>How many sign-in form posts are accepted per minute before the portal answers 429.</summary>
public sealed class SignInRateLimitOptions
{
    /// <summary>Attempts per minute for one user name from one client address.</summary>
    public int PerUserAndAddress { get; set; } = 5;

    /// <summary>Attempts per minute from one client address, whatever the user names.</summary>
    public int PerAddress { get; set; } = 30;

    /// <summary>Setup and invitation form posts per minute from one client address.</summary>
    public int OnboardingPerAddress { get; set; } = 10;
}
