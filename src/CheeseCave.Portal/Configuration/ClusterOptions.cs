namespace CheeseCave.Portal.Configuration;

/// <summary>
/// The <c>CheeseCave:Cluster</c> section: how many portal instances share the database, and how quickly one notices
/// that another has died (its long operations and half-applied approvals are then reported as interrupted).
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>
    /// Instances that serve this portal from one database. 1 (default) runs on SQLite; more need PostgreSQL, whose
    /// LISTEN/NOTIFY carries live updates between them, and a key ring they share.
    /// </summary>
    public int Instances { get; set; } = 1;

    /// <summary>How often an instance records that it is alive.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An instance silent this long is taken as dead: what it was running is marked interrupted.</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(45);

    public IEnumerable<string> Validate()
    {
        if (Instances is < 1 or > 64)
        {
            yield return $"CheeseCave:Cluster:Instances is {Instances}; use 1 to 64.";
        }

        if (HeartbeatInterval < TimeSpan.FromMilliseconds(100) || HeartbeatInterval > TimeSpan.FromMinutes(5))
        {
            yield return $"CheeseCave:Cluster:HeartbeatInterval is {HeartbeatInterval}; use 00:00:00.1 to 00:05:00.";
        }

        if (StaleAfter < HeartbeatInterval * 3)
        {
            yield return $"CheeseCave:Cluster:StaleAfter ({StaleAfter}) must be at least three heartbeats ({HeartbeatInterval * 3}), or a slow instance is taken for dead.";
        }
    }
}
