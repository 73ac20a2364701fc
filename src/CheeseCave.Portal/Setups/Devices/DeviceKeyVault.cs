using System.Collections.Concurrent;
using Microsoft.AspNetCore.DataProtection;

namespace CheeseCave.Portal.Setups.Devices;

/// <summary>
/// The short download window for freshly issued device keys: each device's private key (PKCS#8) and PFX are kept in
/// memory only, encrypted with Data Protection, for <see cref="Lifetime"/> after issuing. Nothing is written to disk
/// or the database; a restart or the window's end forgets them, and the device must be issued again. Each key has an
/// owner, the user who issued the batch (for an approved batch: its requester, not the approver who applied it); only
/// the owner may take the key out (<see cref="IsOwner"/>).
/// </summary>
public sealed class DeviceKeyVault(IDataProtectionProvider dataProtection, TimeProvider time)
{
    public const string Purpose = "CheeseCave.Portal.DeviceKeyVault.v1";

    private readonly IDataProtector _protector = dataProtection.CreateProtector(Purpose);
    private readonly ConcurrentDictionary<int, Entry> _entries = new();

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <param name="owner">Who issued the batch: the only user who may download the key and PFX.</param>
    public DateTimeOffset Keep(int deviceId, KeyOwner owner, byte[] pkcs8, byte[] pfx)
    {
        ArgumentNullException.ThrowIfNull(owner);
        Sweep();
        var until = time.GetUtcNow() + Lifetime;
        _entries[deviceId] = new Entry(_protector.Protect(pkcs8), _protector.Protect(pfx), until, owner);
        return until;
    }

    /// <summary>Who may download the device's key while it is available; null when it is gone.</summary>
    public KeyOwner? Owner(int deviceId) =>
        _entries.TryGetValue(deviceId, out var entry) && entry.Until > time.GetUtcNow() ? entry.Owner : null;

    /// <summary>True when the key is available and <paramref name="userId"/> issued it.</summary>
    public bool IsOwner(int deviceId, string? userId) =>
        userId is not null && Owner(deviceId) is { } owner && string.Equals(owner.UserId, userId, StringComparison.Ordinal);

    /// <summary>When the device's key material expires, or null when it is gone.</summary>
    public DateTimeOffset? AvailableUntil(int deviceId) =>
        _entries.TryGetValue(deviceId, out var entry) && entry.Until > time.GetUtcNow() ? entry.Until : null;

    public byte[]? Pkcs8(int deviceId) => Read(deviceId, e => e.Pkcs8);

    public byte[]? Pfx(int deviceId) => Read(deviceId, e => e.Pfx);

    public void Forget(int deviceId) => _entries.TryRemove(deviceId, out _);

    private byte[]? Read(int deviceId, Func<Entry, byte[]> pick)
    {
        if (!_entries.TryGetValue(deviceId, out var entry))
        {
            return null;
        }

        if (entry.Until <= time.GetUtcNow())
        {
            _entries.TryRemove(deviceId, out _);
            return null;
        }

        return _protector.Unprotect(pick(entry));
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (id, entry) in _entries)
        {
            if (entry.Until <= now)
            {
                _entries.TryRemove(id, out _);
            }
        }
    }

    private sealed record Entry(byte[] Pkcs8, byte[] Pfx, DateTimeOffset Until, KeyOwner Owner);
}

/// <summary>The user a device key belongs to during its download window (id to compare, name to tell others).</summary>
public sealed record KeyOwner(string UserId, string Name);
