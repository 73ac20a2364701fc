using System.Security.Cryptography;

namespace CheeseCave.Pki;

/// <summary>Generated passphrases: 32 random bytes, base64url, so they survive shells, JSON and copy-paste.</summary>
public static class Passphrases
{
    public static string Generate() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

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
