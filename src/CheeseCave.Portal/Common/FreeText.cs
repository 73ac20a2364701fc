using System.Globalization;

namespace CheeseCave.Portal.Common;

/// <summary>
/// Rules for names people type (setups, API tokens, grants): no control characters (a tab, a line break, an escape)
/// and no invisible formatting characters (zero-width spaces, right-to-left overrides). They split or disguise a
/// name in lists, the audit trail and CSV exports, and nobody means to type them.
/// </summary>
public static class FreeText
{
    /// <summary>One sentence naming the first such character, or null when the text has none.</summary>
    public static string? HiddenCharacterProblem(string? text, string what)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var category = char.GetUnicodeCategory(text, i);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format)
            {
                var shown = text[i] switch
                {
                    '\t' => "a tab",
                    '\r' or '\n' => "a line break",
                    _ => string.Create(CultureInfo.InvariantCulture, $"an invisible character (U+{(int)text[i]:X4})"),
                };
                return string.Create(CultureInfo.InvariantCulture, $"The {what} contains {shown} at position {i + 1}; type it again without it.");
            }
        }

        return null;
    }
}
