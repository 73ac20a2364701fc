using System.Collections.Concurrent;
using Microsoft.AspNetCore.DataProtection;

namespace CheeseCave.Portal.Approvals;

/// <summary>
/// Secrets that applying an approved request produces for its requester (a batch's PFX password, an exported key and
/// its passphrase): kept in memory only, encrypted with Data Protection, for <see cref="Lifetime"/>, readable once and
/// only by the user they are for. A restart forgets them; nothing is written to disk or the database.
/// </summary>
public sealed class ApprovalHandoff(IDataProtectionProvider dataProtection, TimeProvider time)
{
    public const string Purpose = "CheeseCave.Portal.ApprovalHandoff.v1";

    private readonly IDataProtector _protector = dataProtection.CreateProtector(Purpose);
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(15);

    public DateTimeOffset Keep(string key, string ownerId, byte[] secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(ownerId);
        ArgumentNullException.ThrowIfNull(secret);
        Sweep();
        var until = time.GetUtcNow() + Lifetime;
        _entries[key] = new Entry(ownerId, _protector.Protect(secret), until);
        return until;
    }

    /// <summary>Whether <paramref name="ownerId"/> can still take the secret.</summary>
    public bool IsWaiting(string key, string? ownerId) =>
        ownerId is not null && _entries.TryGetValue(key, out var entry) && entry.OwnerId == ownerId && entry.Until > time.GetUtcNow();

    /// <summary>The secret, once, for its owner within the window; null otherwise (and a stranger does not consume it).</summary>
    public byte[]? Take(string key, string? ownerId)
    {
        if (ownerId is null || !_entries.TryGetValue(key, out var entry) || entry.OwnerId != ownerId)
        {
            return null;
        }

        if (!_entries.TryRemove(new KeyValuePair<string, Entry>(key, entry)))
        {
            return null; // taken at the same moment by another tab
        }

        return entry.Until > time.GetUtcNow() ? _protector.Unprotect(entry.Protected) : null;
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (key, entry) in _entries)
        {
            if (entry.Until <= now)
            {
                _entries.TryRemove(key, out _);
            }
        }
    }

    private sealed record Entry(string OwnerId, byte[] Protected, DateTimeOffset Until);
}
