namespace CheeseCave.Portal.Automation;

/// <summary>The <c>CheeseCave:Api</c> section: token lifetimes, the per-token rate limit, and how long a CA key stays open.</summary>
public sealed class AutomationOptions
{
    public const string SectionName = "CheeseCave:Api";

    /// <summary>A token lives at most this many days.</summary>
    public int TokenMaxDays { get; set; } = 365;

    /// <summary>Offered when the user does not choose.</summary>
    public int TokenDefaultDays { get; set; } = 90;

    /// <summary>Requests a token may make per second, on average (a token bucket).</summary>
    public int RequestsPerSecond { get; set; } = 100;

    /// <summary>Requests a token may make at once after being idle.</summary>
    public int Burst { get; set; } = 200;

    /// <summary>
    /// How long a setup's signing CA key stays decrypted in memory after it was last opened for CSR signing. Opening it
    /// per request would cost a database read and a decryption each time; keeping it forever would widen the window in
    /// which a memory dump shows it.
    /// </summary>
    public TimeSpan SigningKeyCacheFor { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long the bearer check may reuse what it read about a usable token (its user's roles and disabled flag): a
    /// factory line's requests then cost no query each. Revoking a token here takes effect at once all the same; a
    /// disabled or demoted user within this bound. Zero reads the database on every request.
    /// </summary>
    public TimeSpan TokenCheckCacheFor { get; set; } = TimeSpan.FromSeconds(2);
}
