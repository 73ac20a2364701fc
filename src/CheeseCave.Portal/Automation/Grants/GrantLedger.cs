using System.Collections.Concurrent;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Automation.Grants;

/// <summary>
/// What the signing path needs to know about a grant, kept in memory so a CSR costs no grant read: its setup, pattern,
/// validity, expiry, and how many certificates are left. <see cref="TryReserve"/> takes one of those atomically, so
/// requests beyond the count are refused before any signing work. The database stays the authority: the writer's
/// conditional update refuses anything the ledger let through by mistake (a grant revoked a moment ago), and
/// revoking calls <see cref="Forget"/> so the next request reads the grant again.
/// </summary>
public sealed class GrantLedger(IDbContextFactory<PortalDbContext> contexts)
{
    private readonly ConcurrentDictionary<int, Lazy<Task<GrantState?>>> _grants = new();

    public async Task<GrantState?> GetAsync(int grantId, CancellationToken cancellationToken)
    {
        var lazy = _grants.GetOrAdd(grantId, id => new Lazy<Task<GrantState?>>(() => LoadAsync(id)));
        var state = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (state is null)
        {
            // Not there (yet): do not remember the miss, a grant may be created a moment later.
            _grants.TryRemove(new KeyValuePair<int, Lazy<Task<GrantState?>>>(grantId, lazy));
        }

        return state;
    }

    /// <summary>Drops what is known about a grant; the next request reads it from the database.</summary>
    public void Forget(int grantId) => _grants.TryRemove(grantId, out _);

    private async Task<GrantState?> LoadAsync(int grantId)
    {
        await using var db = await contexts.CreateDbContextAsync().ConfigureAwait(false);
        var grant = await db.IssuanceGrants.AsNoTracking().FirstOrDefaultAsync(g => g.Id == grantId).ConfigureAwait(false);
        return grant is null ? null : new GrantState(grant);
    }
}

/// <summary>One grant as the signing path sees it.</summary>
public sealed class GrantState
{
    private int _remaining;

    internal GrantState(IssuanceGrant grant)
    {
        Id = grant.Id;
        SetupId = grant.SetupId;
        Name = grant.Name;
        Pattern = GrantPattern.Parse(grant.Pattern).Pattern ?? throw new InvalidOperationException($"Grant #{grant.Id} has an invalid pattern '{grant.Pattern}'.");
        ValidityDays = grant.ValidityDays;
        ExpiresAt = grant.ExpiresAt;
        RevokedAt = grant.RevokedAt;
        RevokedBy = grant.RevokedBy;
        ApprovedBy = grant.ApprovedBy;
        _remaining = Math.Max(0, grant.MaxCount - grant.IssuedCount);
    }

    public int Id { get; }

    public int SetupId { get; }

    public string Name { get; }

    public GrantPattern Pattern { get; }

    public int ValidityDays { get; }

    public DateTimeOffset ExpiresAt { get; }

    public DateTimeOffset? RevokedAt { get; }

    public string? RevokedBy { get; }

    public string? ApprovedBy { get; }

    public int Remaining => Volatile.Read(ref _remaining);

    /// <summary>Takes one certificate from the count; false when none is left.</summary>
    public bool TryReserve()
    {
        while (true)
        {
            var left = Volatile.Read(ref _remaining);
            if (left <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _remaining, left - 1, left) == left)
            {
                return true;
            }
        }
    }

    /// <summary>Gives back a reservation whose certificate was never recorded.</summary>
    public void Release() => Interlocked.Increment(ref _remaining);

    /// <summary>The database said no (used up, revoked or expired meanwhile): refuse the rest at once.</summary>
    public void Exhaust() => Volatile.Write(ref _remaining, 0);
}
