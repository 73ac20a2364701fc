using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Cluster;

/// <summary>
/// Fixed-window counters in the shared database: a client spraying passwords at two instances behind a load balancer
/// meets one limit, not one per instance. Each hit is one conditional increment (or the window's first insert).
/// </summary>
public sealed class SharedRateCounters(IDbContextFactory<PortalDbContext> contexts, TimeProvider time)
{
    /// <summary>
    /// Counts one hit on <paramref name="partition"/>; returns the count in its current window and when that ends. A
    /// window opens at a partition's first hit and lasts <paramref name="window"/> (as ASP.NET Core's fixed-window
    /// limiter does), so a burst is never split in two by a clock boundary.
    /// </summary>
    public async Task<(int Count, DateTimeOffset WindowEndsAt)> HitAsync(string partition, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(partition);
        var key = Trim(partition);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = time.GetUtcNow();
            var counted = await db.RateLimitCounters.Where(c => c.Key == key && c.WindowEndsAt > now)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Count, c => c.Count + 1), cancellationToken).ConfigureAwait(false);
            if (counted == 1)
            {
                var row = await db.RateLimitCounters.AsNoTracking().Where(c => c.Key == key).Select(c => new { c.Count, c.WindowEndsAt }).FirstAsync(cancellationToken).ConfigureAwait(false);
                return (row.Count, row.WindowEndsAt);
            }

            var ends = now + window;
            var reopened = await db.RateLimitCounters.Where(c => c.Key == key && c.WindowEndsAt <= now)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Count, 1).SetProperty(c => c.WindowEndsAt, ends), cancellationToken).ConfigureAwait(false);
            if (reopened == 1)
            {
                return (1, ends);
            }

            db.RateLimitCounters.Add(new RateLimitCounter { Key = key, Count = 1, WindowEndsAt = ends });
            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                return (1, ends);
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
            {
                db.ChangeTracker.Clear(); // another instance opened the window first: count on it
            }
        }

        throw new InvalidOperationException($"Could not count a hit on the rate-limit partition {key}.");
    }

    /// <summary>Keys are at most 200 characters (the column); a long partition keeps its distinct hash.</summary>
    private static string Trim(string key) => key.Length <= 200
        ? key
        : key[..120] + "#" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
}
