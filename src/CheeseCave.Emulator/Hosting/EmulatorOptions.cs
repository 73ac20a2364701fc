namespace CheeseCave.Emulator.Hosting;

/// <summary>How the emulator runs. Loopback-only unless a bind address is given explicitly.</summary>
public sealed class EmulatorOptions
{
    /// <summary>Holds the TLS CA, the state files and endpoints.json. Required unless <see cref="InMemory"/>.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>ARM, DPS service and device API, all on one HTTPS port; 0 picks a free port.</summary>
    public int HttpsPort { get; set; } = 5543;

    /// <summary>MQTT over TLS for device registration; 0 picks a free port, -1 disables MQTT.</summary>
    public int MqttPort { get; set; } = 8883;

    /// <summary>AMQP over TLS for the hubs' service side (cloud-to-device sends); -1 (default) turns it off, 0 picks a free port.</summary>
    public int AmqpPort { get; set; } = -1;

    /// <summary>The address to listen on. Loopback by default: the emulator holds keys and accepts any device.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>Keep state in memory only (tests). The TLS CA still needs a folder, a temporary one if none is given.</summary>
    public bool InMemory { get; set; }

    /// <summary>The seeded subscription and resource group, like the Learn sandbox.</summary>
    public string SubscriptionId { get; set; } = "00000000-0000-4000-8000-00000000c4e5";

    public string ResourceGroup { get; set; } = "cheesecave-rg";

    public string Location { get; set; } = "eastus";

    public FaultOptions Faults { get; set; } = new();

    /// <summary>
    /// Encrypts the emulator CA's private key at rest (the portal passes a protector from its Data Protection key
    /// ring). Without one the key is an owner-only PEM file.
    /// </summary>
    public Microsoft.AspNetCore.DataProtection.IDataProtector? CaKeyProtector { get; set; }

    /// <summary>
    /// How long ARM long-running operations take: <see cref="EmulatorTimings.Instant"/> (default; done by the first
    /// poll) or <see cref="EmulatorTimings.AzureLike"/> (2 to 4 seconds each, as Azure's recorded traffic shows).
    /// </summary>
    public string Timing { get; set; } = EmulatorTimings.Instant;
}

/// <summary>The values of <see cref="EmulatorOptions.Timing"/>.</summary>
public static class EmulatorTimings
{
    public const string Instant = "instant";

    public const string AzureLike = "azure-like";

    /// <summary>True for "azure-like"; false for "instant" or empty; anything else is a configuration error.</summary>
    public static bool IsAzureLike(string? timing)
    {
        if (string.IsNullOrWhiteSpace(timing) || timing.Equals(Instant, StringComparison.OrdinalIgnoreCase)) return false;
        if (timing.Equals(AzureLike, StringComparison.OrdinalIgnoreCase)) return true;
        throw new ArgumentException($"Timing '{timing}' is not known: use '{Instant}' (operations finish at once) or '{AzureLike}' (they take seconds, as on Azure).", nameof(timing));
    }
}

/// <summary>Injected failures per surface, for resilience tests. Rates are 0..1 per request.</summary>
public sealed class FaultOptions
{
    public SurfaceFaults Arm { get; set; } = new();

    public SurfaceFaults Service { get; set; } = new();

    public SurfaceFaults Device { get; set; } = new();

    /// <summary>Seed for the random choices, so a failing run can be repeated.</summary>
    public int? Seed { get; set; }
}

public sealed class SurfaceFaults
{
    public double ThrottleRate { get; set; }

    public int RetryAfterSeconds { get; set; } = 1;

    public double UnavailableRate { get; set; }

    public double DropConnectionRate { get; set; }

    public int AddedLatencyMs { get; set; }

    public bool Any => ThrottleRate > 0 || UnavailableRate > 0 || DropConnectionRate > 0 || AddedLatencyMs > 0;
}
