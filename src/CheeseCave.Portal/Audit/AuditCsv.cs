using System.Globalization;
using CheeseCave.Portal.Auditing;

namespace CheeseCave.Portal.Audit;

/// <summary>
/// The audit export's CSV: RFC 4180 (comma, CRLF, fields with comma, quote, CR or LF in double quotes, quotes
/// doubled), UTC ISO 8601 timestamps, and cells that a spreadsheet would run as a formula defused with a leading
/// single quote (OWASP "CSV injection").
/// </summary>
public static class AuditCsv
{
    public static IReadOnlyList<string> Header { get; } = ["id", "at_utc", "actor", "actor_id", "action", "target", "outcome", "detail", "correlation_id"];

    public const string LineEnd = SpreadsheetCsv.LineEnd;

    public static string Line(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Line(
        [
            record.Id.ToString(CultureInfo.InvariantCulture),
            Timestamp(record.At),
            record.Actor,
            record.ActorId,
            record.Action,
            record.Target,
            record.Outcome,
            record.Detail,
            record.CorrelationId,
        ]);
    }

    public static string Line(IReadOnlyList<string?> cells) => SpreadsheetCsv.Line(cells);

    /// <summary>UTC, ISO 8601 with seconds' fractions: <c>2026-11-30T14:05:09.1234567Z</c>.</summary>
    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static string Cell(string? value) => SpreadsheetCsv.Cell(value);
}
