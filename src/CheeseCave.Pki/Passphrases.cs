using System.Security.Cryptography;

namespace CheeseCave.Pki;

/// <summary>Generated passphrases: 32 random bytes, base64url, so they survive shells, JSON and copy-paste.</summary>
public static class Passphrases
{
    public static string Generate() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// True for what <see cref="Generate"/> makes: 43 base64url characters (256 bits). Someone could type such a string
    /// by hand, but one with fewer than 16 different characters is not taken for generated (a random one has about 28).
    /// </summary>
    public static bool IsGenerated(string passphrase) =>
        passphrase is { Length: 43 }
        && passphrase.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
        && passphrase.Distinct().Count() >= 16;

    /// <summary>Short user-chosen passphrases make the encrypted keys guessable offline.</summary>
    public const int MinimumLength = 12;

    public static void RequireStrongEnough(string passphrase, string source)
    {
        if (passphrase.Length < MinimumLength)
        {
            throw new PkiException(PkiErrorCode.InvalidInput,
                $"The passphrase from {source} has {passphrase.Length} characters; use at least {MinimumLength}, or give none and let one be generated.");
        }
    }
}
