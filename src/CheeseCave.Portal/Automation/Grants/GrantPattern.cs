using System.Text;
using System.Text.RegularExpressions;
using CheeseCave.Pki;

namespace CheeseCave.Portal.Automation.Grants;

/// <summary>
/// The registration ids a grant covers, as a glob (not a regular expression, so there is nothing to get subtly wrong):
/// <c>*</c> matches any run of registration-id characters, <c>?</c> exactly one, everything else itself, compared
/// case-insensitively as DPS compares registration ids. The pattern must start with at least three literal
/// characters, so a grant always names a family of devices ("line3-*"), never everything.
/// </summary>
public sealed class GrantPattern
{
    public const int MinimumLiteralPrefix = 3;

    private readonly Regex _regex;

    private GrantPattern(string text, Regex regex)
    {
        Text = text;
        _regex = regex;
    }

    public string Text { get; }

    public bool Matches(string registrationId) => _regex.IsMatch(registrationId);

    /// <summary>The pattern, or why it is not acceptable (one sentence).</summary>
    public static (GrantPattern? Pattern, string? Problem) Parse(string? text)
    {
        text = (text ?? "").Trim();
        if (text.Length == 0)
        {
            return (null, "The registration-id pattern is empty.");
        }

        if (text.Length > RegistrationIds.MaxLength)
        {
            return (null, $"The pattern is {text.Length} characters long; registration ids have at most {RegistrationIds.MaxLength}.");
        }

        var bad = text.Where(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or ':' or '*' or '?')).Distinct().ToArray();
        if (bad.Length > 0)
        {
            return (null, $"The pattern contains '{new string(bad)}'; use registration-id characters (a-z, 0-9, - . _ :) with * and ? as wildcards.");
        }

        var literal = text.TakeWhile(c => c is not ('*' or '?')).Count();
        if (literal < MinimumLiteralPrefix)
        {
            return (null, $"The pattern must start with at least {MinimumLiteralPrefix} fixed characters (like \"line3-*\"), so a grant never covers every device.");
        }

        var regex = new StringBuilder("^");
        foreach (var c in text)
        {
            regex.Append(c switch
            {
                '*' => "[a-z0-9._:-]*",
                '?' => "[a-z0-9._:-]",
                _ => Regex.Escape(c.ToString()),
            });
        }

        regex.Append('$');
        return (new GrantPattern(text, new Regex(regex.ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromMilliseconds(100))), null);
    }
}
