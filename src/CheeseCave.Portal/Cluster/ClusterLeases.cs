using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Cluster;

/// <summary>
/// Named leases in the shared database, for jobs the cluster runs once (the expiry check): an instance holds a lease
/// until it expires; the holder may renew it; anyone may take it once it has expired (its holder died or is done).
/// </summary>
public sealed class ClusterLeases(IDbContextFactory<PortalDbContext> contexts, PortalInstance instance, TimeProvider time)
{
    /// <summary>True when this instance holds <paramref name="name"/> for <paramref name="holdFor"/> from now.</summary>
    public async Task<bool> TryAcquireAsync(string name, TimeSpan holdFor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var now = time.GetUtcNow();
        var until = now + holdFor;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);

        // One conditional update is the whole decision: two instances racing cannot both match it.
        var taken = await db.ClusterLeases.Where(l => l.Name == name && (l.ExpiresAt <= now || l.Holder == instance.Id))
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Holder, instance.Id).SetProperty(l => l.ExpiresAt, until), cancellationToken).ConfigureAwait(false);
        if (taken == 1)
        {
            return true;
        }

        db.ClusterLeases.Add(new ClusterLease { Name = name, Holder = instance.Id, ExpiresAt = until });
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            return false; // another instance holds it
        }
    }

    /// <summary>Who holds <paramref name="name"/> and until when, or null.</summary>
    public async Task<ClusterLease?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.ClusterLeases.AsNoTracking().FirstOrDefaultAsync(l => l.Name == name, cancellationToken).ConfigureAwait(false);
    }

    public bool IsMine(ClusterLease lease) => string.Equals(lease?.Holder, instance.Id, StringComparison.Ordinal);
}
