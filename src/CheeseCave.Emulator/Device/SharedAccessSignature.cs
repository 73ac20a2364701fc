using System.Security.Cryptography;
using System.Text;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// A parsed "SharedAccessSignature sr=..&amp;sig=..&amp;se=..&amp;skn=.." token, as devices (DPS, §6.2) and IoT Hub
/// service clients send it. The signature is HMAC-SHA256(base64-decoded key, sr + "\n" + se).
/// </summary>
internal sealed record SharedAccessSignature(string Resource, string Signature, string? KeyName, long Expiry)
{
    private const string Prefix = "SharedAccessSignature ";

    /// <summary>The resource URI with any URL-encoding removed (the Node SDK sends it raw, the docs encode it).</summary>
    public string DecodedResource => Uri.UnescapeDataString(Resource);

    public static SharedAccessSignature? TryParse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var text = value.Trim();
        if (text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            text = text[Prefix.Length..].Trim();
        }

        string? sr = null, sig = null, skn = null, se = null;
        foreach (var part in text.Split('&', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) continue;
            var name = part[..equals];
            var field = part[(equals + 1)..];
            switch (name.ToLowerInvariant())
            {
                case "sr": sr = field; break;
                case "sig": sig = Uri.UnescapeDataString(field); break;
                case "skn": skn = Uri.UnescapeDataString(field); break;
                case "se": se = field; break;
            }
        }

        if (sr is null || sig is null || se is null || !long.TryParse(se, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var expiry))
        {
            return null;
        }

        return new SharedAccessSignature(sr, sig, skn, expiry);
    }

    public bool IsExpired(DateTimeOffset now) => Expiry <= now.ToUnixTimeSeconds();

    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(Expiry, 0, 253402300799));

    /// <summary>
    /// True when the signature was made with this key, over the resource exactly as sent or over its decoded,
    /// encoded or lower-case encoded form (clients disagree on encoding; wire reference §0.1 item 12).
    /// </summary>
    public bool IsSignedWith(string? base64Key)
    {
        if (string.IsNullOrEmpty(base64Key))
        {
            return false;
        }

        byte[] key;
        byte[] expected;
        try
        {
            key = Convert.FromBase64String(base64Key);
            expected = Convert.FromBase64String(Signature);
        }
        catch (FormatException)
        {
            return false;
        }

        var decoded = DecodedResource;
        var encoded = Uri.EscapeDataString(decoded);
        var variants = new[] { Resource, decoded, encoded, encoded.ToLowerInvariant(), Uri.EscapeDataString(decoded.ToLowerInvariant()) }.Distinct(StringComparer.Ordinal);
        foreach (var resource in variants)
        {
            var actual = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(resource + "\n" + Expiry.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (CryptographicOperations.FixedTimeEquals(actual, expected))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Makes a token (tests and tools): the Node SDK's field order sr, sig, skn, se.</summary>
    public static string Create(string resource, string? keyName, string base64Key, DateTimeOffset expiresAt)
    {
        var se = expiresAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sig = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(base64Key), Encoding.UTF8.GetBytes(resource + "\n" + se)));
        return $"SharedAccessSignature sr={resource}&sig={Uri.EscapeDataString(sig)}" + (keyName is null ? string.Empty : $"&skn={Uri.EscapeDataString(keyName)}") + $"&se={se}";
    }

    /// <summary>The key a device of a symmetric-key enrollment group uses: HMAC-SHA256(group key, registration ID).</summary>
    public static string? DeriveDeviceKey(string? groupKey, string registrationId)
    {
        if (string.IsNullOrEmpty(groupKey))
        {
            return null;
        }

        try
        {
            return Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(groupKey), Encoding.UTF8.GetBytes(registrationId)));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
