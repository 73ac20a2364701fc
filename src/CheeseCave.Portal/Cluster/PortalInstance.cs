namespace CheeseCave.Portal.Cluster;

/// <summary>This process among the portal instances sharing the database: a fresh id at every start.</summary>
public sealed class PortalInstance
{
    public string Id { get; } = Guid.NewGuid().ToString("N");

    public string Machine { get; } = Environment.MachineName;

    public override string ToString() => $"{Machine}/{Id[..8]}";
}
