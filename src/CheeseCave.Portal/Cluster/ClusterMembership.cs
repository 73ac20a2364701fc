using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Cluster;

/// <summary>Which portal instances are alive, read from their heartbeats (<see cref="InstanceHeartbeat"/>).</summary>
public sealed class ClusterMembership(IDbContextFactory<PortalDbContext> contexts, PortalInstance instance, IOptions<CheeseCaveOptions> options, TimeProvider time)
{
    /// <summary>
    /// The instances alive now: this one always; others only when several are configured and they beat within
    /// <see cref="ClusterOptions.StaleAfter"/> and have not stopped. With one instance configured, any other row is
    /// an earlier run of this portal.
    /// </summary>
    public async Task<IReadOnlyCollection<string>> AliveAsync(CancellationToken cancellationToken = default)
    {
        var settings = options.Value.Cluster;
        if (settings.Instances == 1)
        {
            return [instance.Id];
        }

        var since = time.GetUtcNow() - settings.StaleAfter;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var alive = await db.PortalInstances.AsNoTracking().Where(i => i.StoppedAt == null && i.HeartbeatAt >= since)
            .Select(i => i.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. alive.Append(instance.Id).Distinct(StringComparer.Ordinal)];
    }
}
