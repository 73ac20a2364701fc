using System.Globalization;
using System.Text;
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

    public const string LineEnd = "\r\n";

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

    public static string Line(IReadOnlyList<string?> cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var line = new StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }

            line.Append(Cell(cells[i]));
        }

        return line.Append(LineEnd).ToString();
    }

    /// <summary>UTC, ISO 8601 with seconds' fractions: <c>2026-11-30T14:05:09.1234567Z</c>.</summary>
    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        // A spreadsheet treats these first characters as the start of a formula (tab and CR too, after trimming).
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }
}
