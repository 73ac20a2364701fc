using System.Text;

namespace CheeseCave.Portal.Common;

/// <summary>
/// CSV lines for the portal's exports: RFC 4180 (comma, CRLF, fields with comma, quote, CR or LF in double quotes,
/// quotes doubled), and text that a spreadsheet would run as a formula defused with a single quote (OWASP "CSV
/// injection"): at the start of a cell, and after every semicolon, tab, comma or line break inside it, because
/// spreadsheets set to another locale or an import that splits on ";" or tabs start a new cell there. Cells holding
/// a semicolon or a tab are quoted too. One writer, so every export defuses the same way.
/// </summary>
public static class SpreadsheetCsv
{
    public const string LineEnd = "\r\n";

    /// <summary>Characters that make a cell quoted: RFC 4180's, plus the separators other importers split on.</summary>
    private static readonly System.Buffers.SearchValues<char> NeedsQuotes = System.Buffers.SearchValues.Create(",\"\r\n;\t");

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

        value = Defuse(value);
        return value.AsSpan().ContainsAny(NeedsQuotes)
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }

    /// <summary>
    /// A quote before every character that would start a formula where a spreadsheet may start a cell: at the start,
    /// or after a separator (and any spaces, which some importers trim).
    /// </summary>
    private static string Defuse(string value)
    {
        StringBuilder? defused = null;
        var cellStart = true;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            // Formula starts; a tab or CR at the very start too (spreadsheets trim them and read on).
            if (cellStart && (c is '=' or '+' or '-' or '@' || (i == 0 && c is '\t' or '\r')))
            {
                defused ??= new StringBuilder(value.Length + 4).Append(value, 0, i);
                defused.Append('\'');
            }

            defused?.Append(c);
            cellStart = c is ';' or '\t' or ',' or '\r' or '\n' || (cellStart && c == ' ');
        }

        return defused?.ToString() ?? value;
    }
}
