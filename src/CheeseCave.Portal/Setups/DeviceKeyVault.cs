using System.Collections.Concurrent;
using Microsoft.AspNetCore.DataProtection;

namespace CheeseCave.Portal.Setups;

/// <summary>
/// The short download window for freshly issued device keys: each device's private key (PKCS#8) and PFX are kept in
/// memory only, encrypted with Data Protection, for <see cref="Lifetime"/> after issuing. Nothing is written to disk
/// or the database; a restart or the window's end forgets them, and the device must be issued again.
/// </summary>
public sealed class DeviceKeyVault(IDataProtectionProvider dataProtection, TimeProvider time)
{
    public const string Purpose = "CheeseCave.Portal.DeviceKeyVault.v1";

    private readonly IDataProtector _protector = dataProtection.CreateProtector(Purpose);
    private readonly ConcurrentDictionary<int, Entry> _entries = new();

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(15);

    public DateTimeOffset Keep(int deviceId, byte[] pkcs8, byte[] pfx)
    {
        Sweep();
        var until = time.GetUtcNow() + Lifetime;
        _entries[deviceId] = new Entry(_protector.Protect(pkcs8), _protector.Protect(pfx), until);
        return until;
    }

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

    private sealed record Entry(byte[] Pkcs8, byte[] Pfx, DateTimeOffset Until);
}
