using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Automation.Tokens;

/// <summary>
/// What the bearer check read about a usable token (its user, roles, scopes, expiry), kept for
/// <see cref="AutomationOptions.TokenCheckCacheFor"/> (default 2 seconds) so a factory line's back-to-back requests do
/// not each pay the token/user/roles query. Only usable tokens are kept; a refusal is read and audited every time.
/// Freshness: the token's expiry is compared on every request; revoking a token in this portal drops it at once
/// (<see cref="Forget"/>); a user disabled, demoted or deleted, or anything changed in the database by other means,
/// shows within the bound.
/// </summary>
public sealed class ApiTokenCache(TimeProvider time, IOptionsMonitor<AutomationOptions> options)
{
    /// <summary>Beyond this many entries the cache starts over, so it never grows without bound.</summary>
    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    internal TokenOwner? Find(string hashKey)
    {
        if (_entries.TryGetValue(hashKey, out var entry))
        {
            if (entry.Until > time.GetUtcNow())
            {
                return entry.Owner;
            }

            _entries.TryRemove(new KeyValuePair<string, Entry>(hashKey, entry));
        }

        return null;
    }

    internal void Keep(string hashKey, TokenOwner owner)
    {
        var bound = options.CurrentValue.TokenCheckCacheFor;
        if (bound <= TimeSpan.Zero)
        {
            return;
        }

        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[hashKey] = new Entry(owner, time.GetUtcNow() + bound);
    }

    /// <summary>Drops a token (revoked here): its next request reads the database again.</summary>
    public void Forget(int tokenId)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.Owner.TokenId == tokenId)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
            }
        }
    }

    private sealed record Entry(TokenOwner Owner, DateTimeOffset Until);
}

/// <summary>A token with its user and the user's roles, as one query reads them.</summary>
internal sealed record TokenOwner(int TokenId, string Prefix, string Scopes, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt,
    string UserId, string? UserName, bool IsDisabled, string? SecurityStamp, List<string?> Roles);
