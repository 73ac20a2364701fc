using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace CheeseCave.Portal.Security;

/// <summary>
/// Tokens for one-time links (first-run setup, invitations): 32 random bytes, base64url in the link, and only
/// their SHA-256 in the database. A token this long needs no slow hash: guessing is hopeless either way.
/// </summary>
public static class OneTimeToken
{
    public static string Create() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    /// <summary>Cheap shape check before touching the database (43 base64url characters).</summary>
    public static bool LooksValid(string? token) =>
        token is { Length: 43 } && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
