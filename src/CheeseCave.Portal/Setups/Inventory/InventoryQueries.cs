using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Inventory;

/// <summary>
/// The inventory's SQL: CAs and device certificates filtered, sorted and paged in SQLite (never loaded whole). CAs
/// come first, then devices, each in the chosen order, so a page is one slice of "CAs, then devices".
/// </summary>
internal static class InventoryQueries
{
    private sealed record CaWithSetup(SetupCertificate Ca, string SetupName);

    private sealed record DeviceWithSetup(SetupDevice Device, string SetupName);

    public static async Task<(IReadOnlyList<InventoryRow> Items, int Total)> PageAsync(PortalDbContext db, InventoryQuery query, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cas = Cas(db, query.Filter, now);
        var devices = Devices(db, query.Filter, now);
        var caCount = cas is null ? 0 : await cas.CountAsync(cancellationToken).ConfigureAwait(false);
        var deviceCount = devices is null ? 0 : await devices.CountAsync(cancellationToken).ConfigureAwait(false);

        var items = new List<InventoryRow>(query.Take);
        if (cas is not null && query.Skip < caCount)
        {
            var page = await Sorted(cas, query, now).Skip(query.Skip).Take(query.Take)
                .Join(db.Setups, c => c.SetupId, s => s.Id, (c, s) => new CaWithSetup(c, s.Name))
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            items.AddRange(page.Select(p => Row(p.Ca, p.SetupName, now)));
        }

        var remaining = query.Take - items.Count;
        if (devices is not null && remaining > 0)
        {
            var page = await Sorted(devices, query, now).Skip(Math.Max(0, query.Skip - caCount)).Take(remaining)
                .Join(db.Setups, d => d.SetupId, s => s.Id, (d, s) => new DeviceWithSetup(d, s.Name))
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            items.AddRange(page.Select(p => Row(p.Device, p.SetupName, now)));
        }

        return (items, caCount + deviceCount);
    }

    /// <summary>Every match in page order, read in batches (the CSV export).</summary>
    public static async IAsyncEnumerable<InventoryRow> StreamAsync(PortalDbContext db, InventoryFilter filter, InventorySort sort, bool descending, DateTimeOffset now,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = new InventoryQuery(filter, Sort: sort, Descending: descending, IncludeDps: false);
        if (Cas(db, filter, now) is { } cas)
        {
            var rows = Sorted(cas, query, now).Join(db.Setups, c => c.SetupId, s => s.Id, (c, s) => new CaWithSetup(c, s.Name)).AsAsyncEnumerable();
            await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                yield return Row(row.Ca, row.SetupName, now);
            }
        }

        if (Devices(db, filter, now) is { } devices)
        {
            var rows = Sorted(devices, query, now).Join(db.Setups, d => d.SetupId, s => s.Id, (d, s) => new DeviceWithSetup(d, s.Name)).AsAsyncEnumerable();
            await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                yield return Row(row.Device, row.SetupName, now);
            }
        }
    }

    private static IQueryable<SetupCertificate>? Cas(PortalDbContext db, InventoryFilter filter, DateTimeOffset now)
    {
        if (filter.Kind == InventoryKind.Device)
        {
            return null;
        }

        var query = db.SetupCertificates.AsNoTracking();
        if (filter.SetupId is { } setupId)
        {
            query = query.Where(c => c.SetupId == setupId);
        }

        if (Search(filter.Text) is (string like, var hex))
        {
#pragma warning disable CA1304, CA1311 // ToLower() becomes SQL lower(): it never runs with a .NET culture
            query = query.Where(c => EF.Functions.Like(c.Subject.ToLower(), like, "\\")
                || (hex != null && (EF.Functions.Like(c.ThumbprintSha1.ToLower(), hex, "\\") || EF.Functions.Like(c.ThumbprintSha256.ToLower(), hex, "\\") || EF.Functions.Like(c.SerialNumber.ToLower(), hex, "\\"))));
#pragma warning restore CA1304, CA1311
        }

        if (filter.Status is { } status)
        {
            query = query.Where(CertificateStatuses.Is(CertificateStatuses.ForCas(now), status));
        }

        if (filter.ExpiringWithinDays is { } days)
        {
            var until = now.AddDays(days);
            query = query.Where(c => c.NotAfter > now && c.NotAfter <= until);
        }

        return query;
    }

    private static IQueryable<SetupDevice>? Devices(PortalDbContext db, InventoryFilter filter, DateTimeOffset now)
    {
        if (filter.Kind == InventoryKind.Ca)
        {
            return null;
        }

        var query = db.SetupDevices.AsNoTracking();
        if (filter.SetupId is { } setupId)
        {
            query = query.Where(d => d.SetupId == setupId);
        }

        if (Search(filter.Text) is (string like, var hex))
        {
#pragma warning disable CA1304, CA1311 // ToLower() becomes SQL lower(): it never runs with a .NET culture
            query = query.Where(d => EF.Functions.Like(d.RegistrationId.ToLower(), like, "\\")
                || (hex != null && (EF.Functions.Like(d.ThumbprintSha1.ToLower(), hex, "\\") || EF.Functions.Like(d.ThumbprintSha256.ToLower(), hex, "\\") || EF.Functions.Like(d.SerialNumber.ToLower(), hex, "\\"))));
#pragma warning restore CA1304, CA1311
        }

        if (filter.Status is { } status)
        {
            query = query.Where(CertificateStatuses.Is(CertificateStatuses.ForDevices(now), status));
        }

        if (filter.ExpiringWithinDays is { } days)
        {
            var until = now.AddDays(days);
            query = query.Where(d => d.NotAfter > now && d.NotAfter <= until);
        }

        return query;
    }

    private static IOrderedQueryable<SetupCertificate> Sorted(IQueryable<SetupCertificate> cas, InventoryQuery query, DateTimeOffset now) => query.Sort switch
    {
        InventorySort.Name => Order(cas, c => c.Subject, query.Descending).ThenBy(c => c.Id),
        InventorySort.Setup => Order(cas, c => c.SetupId, query.Descending).ThenBy(c => c.NotAfter).ThenBy(c => c.Id),
        InventorySort.Issued => Order(cas, c => c.CreatedAt, query.Descending).ThenBy(c => c.Id),
        InventorySort.Status => Order(cas, CertificateStatuses.ForCas(now), query.Descending).ThenBy(c => c.NotAfter).ThenBy(c => c.Id),
        InventorySort.Serial => Order(cas, c => c.SerialNumber, query.Descending).ThenBy(c => c.Id),
        _ => Order(cas, c => c.NotAfter, query.Descending).ThenBy(c => c.Id),
    };

    private static IOrderedQueryable<SetupDevice> Sorted(IQueryable<SetupDevice> devices, InventoryQuery query, DateTimeOffset now) => query.Sort switch
    {
        InventorySort.Name => Order(devices, d => d.RegistrationId, query.Descending).ThenBy(d => d.Id),
        InventorySort.Setup => Order(devices, d => d.SetupId, query.Descending).ThenBy(d => d.NotAfter).ThenBy(d => d.Id),
        InventorySort.Issued => Order(devices, d => d.IssuedAt, query.Descending).ThenBy(d => d.Id),
        InventorySort.Status => Order(devices, CertificateStatuses.ForDevices(now), query.Descending).ThenBy(d => d.NotAfter).ThenBy(d => d.Id),
        InventorySort.Serial => Order(devices, d => d.SerialNumber, query.Descending).ThenBy(d => d.Id),
        _ => Order(devices, d => d.NotAfter, query.Descending).ThenBy(d => d.Id),
    };

    private static IOrderedQueryable<T> Order<T, TKey>(IQueryable<T> source, Expression<Func<T, TKey>> key, bool descending) =>
        descending ? source.OrderByDescending(key) : source.OrderBy(key);

    /// <summary>
    /// LIKE patterns, lower-cased to match the lower-cased columns (SQLite's LIKE ignores ASCII case by itself,
    /// PostgreSQL's does not): the text anywhere, and as hex without colons or spaces when it could be a thumbprint or serial.
    /// </summary>
    private static (string Like, string? Hex)? Search(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var trimmed = text.Trim();
        var hex = trimmed.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        var isHex = hex.Length > 0 && hex.All(char.IsAsciiHexDigit);
        return (Contains(trimmed.ToLowerInvariant()), isHex ? Contains(hex.ToLowerInvariant()) : null);
    }

    private static string Contains(string text) =>
        "%" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";

    public static InventoryRow Row(SetupCertificate ca, string setupName, DateTimeOffset now)
    {
        var status = CertificateStatuses.Of(ca, now);
        return new InventoryRow(InventoryKind.Ca, ca.Id, ca.SetupId, setupName, ca.Subject, ca.Subject, ca.Kind == SetupCertificateKind.Root ? "Root CA" : "Intermediate CA",
            ca.SerialNumber, ca.ThumbprintSha1, ca.ThumbprintSha256, ca.Issuer, ca.NotBefore, ca.NotAfter, ca.KeyType, ca.CreatedBy, ca.ApprovedBy,
            ca.IsImported ? CertificateSource.Imported : CertificateSource.Generated, status, ca.CreatedAt,
            ca.RetiredAt is { } retired ? $"retired {retired.UtcDateTime:yyyy-MM-dd} by {ca.RetiredBy}" : null);
    }

    public static InventoryRow Row(SetupDevice device, string setupName, DateTimeOffset now)
    {
        var status = CertificateStatuses.Of(device, now);
        var note = status switch
        {
            CertificateStatus.Revoked => $"revoked {device.RevokedAt!.Value.UtcDateTime:yyyy-MM-dd} by {device.RevokedBy}{(string.IsNullOrEmpty(device.RevocationReason) ? "" : $": {device.RevocationReason}")}",
            CertificateStatus.Superseded => $"renewed {device.SupersededAt?.UtcDateTime:yyyy-MM-dd}",
            _ => null,
        };
        return new InventoryRow(InventoryKind.Device, device.Id, device.SetupId, setupName, device.RegistrationId, "CN=" + device.RegistrationId, null,
            device.SerialNumber, device.ThumbprintSha1, device.ThumbprintSha256, device.Issuer, device.NotBefore, device.NotAfter, device.KeyType,
            string.IsNullOrEmpty(device.RequestedBy) ? device.IssuedBy : device.RequestedBy, device.ApprovedBy,
            device.Source == DeviceCertificateSource.DeviceCsr ? CertificateSource.DeviceCsr : CertificateSource.PortalKey, status, device.IssuedAt, note);
    }
}
