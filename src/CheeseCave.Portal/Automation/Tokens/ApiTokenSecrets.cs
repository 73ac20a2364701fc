using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace CheeseCave.Portal.Automation.Tokens;

/// <summary>
/// Token text: <c>ccp_</c> and 43 base64url characters (256 random bits). The prefix makes a leaked token easy to
/// recognise in logs and secret scanners. Stored as SHA-256 only: with 256 random bits a fast hash is enough.
/// </summary>
public static class ApiTokenSecrets
{
    public const string Prefix = "ccp_";

    public const int Length = 47;

    public static string Create() => Prefix + WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    /// <summary>Shape check before touching the database.</summary>
    public static bool LooksValid(string? token) =>
        token is { Length: Length } && token.StartsWith(Prefix, StringComparison.Ordinal)
        && token.AsSpan(Prefix.Length).ToString().All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>What lists show: enough to recognise, far too little to use.</summary>
    public static string Recognisable(string token) => token[..12];
}
