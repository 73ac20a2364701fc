using System.Globalization;

namespace CheeseCave.Portal.Setups.Inventory;

/// <summary>
/// The inventory export's CSV: RFC 4180 (comma, CRLF, quotes doubled, fields with comma, quote, CR or LF quoted), UTC
/// ISO 8601 times, and every cell a spreadsheet would run as a formula (= + - @ tab CR first) defused with a leading
/// single quote. Subjects and registration ids come from certificates and requests: they are untrusted text.
/// </summary>
public static class InventoryCsv
{
    public const string LineEnd = SpreadsheetCsv.LineEnd;

    public static IReadOnlyList<string> Header { get; } =
    [
        "kind", "id", "setup_id", "setup", "name", "subject", "ca_role", "serial_number", "thumbprint_sha1", "thumbprint_sha256", "issuer",
        "not_before_utc", "not_after_utc", "key_type", "source", "status", "status_note", "requested_by", "approved_by", "issued_at_utc",
    ];

    public static string Line(InventoryRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return Line(
        [
            row.Kind == InventoryKind.Ca ? "ca" : "device",
            row.Id.ToString(CultureInfo.InvariantCulture),
            row.SetupId.ToString(CultureInfo.InvariantCulture),
            row.SetupName,
            row.Name,
            row.Subject,
            row.CaRole,
            row.SerialNumber,
            row.ThumbprintSha1,
            row.ThumbprintSha256,
            row.Issuer,
            Timestamp(row.NotBefore),
            Timestamp(row.NotAfter),
            row.KeyType,
            SourceName(row.Source),
            row.Status.ToString().ToLowerInvariant(),
            row.StatusNote,
            row.RequestedBy,
            row.ApprovedBy,
            Timestamp(row.IssuedAt),
        ]);
    }

    public static string Line(IReadOnlyList<string?> cells) => SpreadsheetCsv.Line(cells);

    public static string Cell(string? value) => SpreadsheetCsv.Cell(value);

    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string SourceName(CertificateSource source) => source switch
    {
        CertificateSource.Generated => "generated",
        CertificateSource.Imported => "imported",
        CertificateSource.DeviceCsr => "device CSR",
        _ => "portal key",
    };
}
