using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Auditing;

/// <summary>Writes and reads the append-only audit log. There is deliberately no way to change or remove an entry.</summary>
public sealed class AuditLog(IDbContextFactory<PortalDbContext> contexts, TimeProvider time)
{
    public async Task WriteAsync(Actor actor, string action, string? target, string outcome, string? detail = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        db.AuditEntries.Add(actor.Audit(time.GetUtcNow(), action, target, outcome, detail));
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The newest entries first.</summary>
    public async Task<IReadOnlyList<AuditEntry>> ReadRecentAsync(int count, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.AuditEntries.AsNoTracking().OrderByDescending(a => a.Id).Take(count).ToListAsync(cancellationToken).ConfigureAwait(false);
    }
}
