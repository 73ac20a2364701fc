namespace CheeseCave.Provisioning.Configuration;

/// <summary>
/// How the clients retry transient failures (429, 5xx, timeouts, dropped connections): exponential backoff with
/// jitter, never shorter than the Retry-After the service asked for. Cancellation is never retried.
/// </summary>
public sealed class ProvisioningRetryOptions
{
    /// <summary>Retries after the first attempt; 0 turns retrying off.</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>The first backoff delay; it doubles per retry (±20% jitter).</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(0.8);

    /// <summary>The longest backoff delay.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A Retry-After longer than this is shortened to it (a misbehaving server cannot park the caller).</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long one request may take before it counts as a (transient) timeout.</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(60);

    internal void Validate()
    {
        if (MaxRetries < 0) throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "MaxRetries cannot be negative.");
        if (Delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Delay), Delay, "Delay cannot be negative.");
        if (MaxDelay < Delay) throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "MaxDelay cannot be shorter than Delay.");
        if (MaxRetryAfter < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxRetryAfter), MaxRetryAfter, "MaxRetryAfter cannot be negative.");
        if (NetworkTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(NetworkTimeout), NetworkTimeout, "NetworkTimeout must be positive.");
    }
}

/// <summary>Settings every provisioning client shares.</summary>
public abstract class ProvisioningClientOptions
{
    public ProvisioningRetryOptions Retry { get; set; } = new();

    /// <summary>The clock for SAS expiry, backoff delays and timeouts (a fake one in tests).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
