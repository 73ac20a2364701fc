namespace CheeseCave.Pki;

/// <summary>The outcome of checking a name against a rule set: errors block, warnings explain a risk.</summary>
public sealed record NameCheck(IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// DPS registration-ID rules as they apply to X.509 device certificates: the leaf CN is the registration ID,
/// and the IoT Hub device ID of a group-enrolled device.
/// </summary>
public static class RegistrationIds
{
    /// <summary>DPS allows 128 characters, but the ID lives in the certificate CN, which X.520 limits to 64.</summary>
    public const int MaxLength = SubjectNames.MaxCommonNameLength;

    public static NameCheck Check(string? registrationId)
    {
        var errors = new List<string>();
        var warnings = new List<string>();
        if (string.IsNullOrEmpty(registrationId))
        {
            errors.Add("The registration ID is empty: it becomes the certificate CN and the device ID, so it must be given.");
            return new NameCheck(errors, warnings);
        }

        if (registrationId.Length > MaxLength)
        {
            errors.Add($"'{Shorten(registrationId)}' is {registrationId.Length} characters long; a registration ID in a certificate CN may have at most {MaxLength}.");
        }

        var bad = registrationId.Where(c => !IsAllowed(c)).Distinct().ToArray();
        if (bad.Length > 0)
        {
            errors.Add($"'{Shorten(registrationId)}' contains {Describe(bad)}; a registration ID may only use letters a-z, digits and - . _ :");
        }

        var last = registrationId[^1];
        if (IsAllowed(last) && !(char.IsAsciiLetterOrDigit(last) || last == '-'))
        {
            errors.Add($"'{Shorten(registrationId)}' ends with '{last}'; the last character must be a letter, a digit or '-'.");
        }

        if (registrationId.Any(char.IsAsciiLetterUpper))
        {
            warnings.Add($"'{Shorten(registrationId)}' has upper-case letters. DPS treats registration IDs case-insensitively and stores them in lower case, "
                + "while IoT Hub device IDs are case-sensitive, and some API versions reject upper case with 400004 'Invalid RegistrationId'. Prefer lower case.");
        }

        return new NameCheck(errors, warnings);
    }

    /// <summary>Throws a <see cref="PkiException"/> with every reason the ID is not acceptable.</summary>
    public static void Require(string? registrationId)
    {
        var check = Check(registrationId);
        if (!check.IsValid)
        {
            throw new PkiException(PkiErrorCode.InvalidRegistrationId, string.Join(" ", check.Errors));
        }
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or ':';

    private static string Describe(char[] chars) =>
        (chars.Length == 1 ? "the character " : "the characters ")
        + string.Join(" ", chars.Select(c => c == ' ' ? "' ' (a space)" : char.IsWhiteSpace(c) || char.IsControl(c) ? $"U+{(int)c:X4}" : $"'{c}'"));

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";
}
