using System.Text;

namespace CheeseCave.Portal.Common;

/// <summary>
/// CSV lines for the portal's exports: RFC 4180 (comma, CRLF, fields with comma, quote, CR or LF in double quotes,
/// quotes doubled), and cells that a spreadsheet would run as a formula defused with a leading single quote (OWASP
/// "CSV injection"). One writer, so every export defuses the same way.
/// </summary>
public static class SpreadsheetCsv
{
    public const string LineEnd = "\r\n";

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
