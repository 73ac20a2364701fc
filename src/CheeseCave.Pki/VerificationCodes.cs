using System.Text;

namespace CheeseCave.Pki;

/// <summary>DPS verification codes: the CN of the proof-of-possession certificate.</summary>
public static class VerificationCodes
{
    public static string Require(string? code)
    {
        var trimmed = code?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            throw new PkiException(PkiErrorCode.InvalidVerificationCode,
                "The verification code is empty: generate one for the CA certificate in DPS (\"Generate verification code\") and pass it here.");
        }

        if (trimmed.Length > SubjectNames.MaxCommonNameLength)
        {
            throw new PkiException(PkiErrorCode.InvalidVerificationCode,
                $"The verification code is {trimmed.Length} characters long; DPS codes fit in a certificate CN (at most {SubjectNames.MaxCommonNameLength}). Did you paste more than the code?");
        }

        var bad = trimmed.Where(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')).Distinct().ToArray();
        if (bad.Length > 0)
        {
            var shown = new StringBuilder();
            foreach (var c in bad)
            {
                shown.Append(char.IsWhiteSpace(c) ? "a space " : $"'{c}' ");
            }

            throw new PkiException(PkiErrorCode.InvalidVerificationCode,
                $"The verification code contains {shown.ToString().Trim()}; DPS codes are letters and digits only. Copy just the code.");
        }

        return trimmed;
    }
}
