using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Service;

/// <summary>
/// A parsed <c>SharedAccessSignature sr=..&amp;sig=..&amp;skn=..&amp;se=..</c> token, fields in any order.
/// <see cref="RawResource"/> and <see cref="RawExpiry"/> keep the text exactly as sent, because clients sign different
/// forms (the Node SDKs sign the un-encoded <c>sr</c>, the C# and Python ones its URL-encoded form).
/// </summary>
internal sealed record SharedAccessToken(string RawResource, string Resource, string Signature, string? KeyName, string RawExpiry, DateTimeOffset ExpiresAt);

internal enum SasOutcome
{
    Valid,

    /// <summary>No Authorization header, or one that is not a SharedAccessSignature.</summary>
    Missing,

    /// <summary>A SharedAccessSignature that cannot be read (a field missing, a bad expiry).</summary>
    Malformed,

    Expired,

    /// <summary>The <c>skn</c> names no policy (or is absent where one is needed).</summary>
    UnknownKeyName,

    /// <summary>The signature matches neither the primary nor the secondary key.</summary>
    BadSignature,

    /// <summary>The signature is right but <c>sr</c> names another resource (another host).</summary>
    WrongResource,
}

/// <summary>What checking a token found: the outcome, a message for people, and the policy that signed it when valid.</summary>
internal sealed record SasValidation(SasOutcome Outcome, string Message, AccessPolicy? Policy = null, SharedAccessToken? Token = null)
{
    public bool IsValid => Outcome == SasOutcome.Valid;
}

/// <summary>
/// Shared access signatures as Azure IoT Hub and DPS use them: HMAC-SHA256 keyed with the base64-decoded key over
/// <c>sr + "\n" + se</c>, base64 then URL-encoded in <c>sig</c>. Reusable for DPS service policies, IoT Hub registry
/// policies and device keys. Signatures are compared in constant time.
/// </summary>
internal static class SharedAccessSignatures
{
    public const string Scheme = "SharedAccessSignature";

    /// <summary>Signs <paramref name="resource"/> and <paramref name="expiry"/> (epoch seconds, as text) with a base64 key.</summary>
    public static string Sign(string base64Key, string resource, string expiry)
    {
        ArgumentNullException.ThrowIfNull(base64Key);
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(expiry);
        return Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(base64Key), Encoding.UTF8.GetBytes(resource + "\n" + expiry)));
    }

    /// <summary>Builds a token the way the Azure SDKs do: <c>sr</c> as given, <c>sig</c> URL-encoded, fields sr, sig, skn, se.</summary>
    public static string Create(string resource, string? keyName, string base64Key, DateTimeOffset expiresAt)
    {
        var expiry = expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var token = $"{Scheme} sr={resource}&sig={Uri.EscapeDataString(Sign(base64Key, resource, expiry))}";
        if (!string.IsNullOrEmpty(keyName)) token += "&skn=" + Uri.EscapeDataString(keyName);
        return token + "&se=" + expiry;
    }

    /// <summary>
    /// The key of a device in a symmetric-key enrollment group: base64(HMAC-SHA256(base64dec(groupKey), registrationId)).
    /// </summary>
    public static string DeriveDeviceKey(string base64GroupKey, string registrationId) =>
        Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(base64GroupKey), Encoding.UTF8.GetBytes(registrationId)));

    /// <summary>Reads an Authorization header value. On failure <paramref name="error"/> says what is wrong in plain words.</summary>
    public static bool TryParse(string? header, out SharedAccessToken? token, out SasOutcome failure, out string error)
    {
        token = null;
        failure = SasOutcome.Missing;
        if (string.IsNullOrWhiteSpace(header))
        {
            error = $"The request has no Authorization header. Send 'Authorization: {Scheme} sr=<host>&sig=<signature>&skn=<policy name>&se=<expiry>', built from a shared access policy's key.";
            return false;
        }

        header = header.Trim();
        if (!header.StartsWith(Scheme + " ", StringComparison.OrdinalIgnoreCase))
        {
            var scheme = header.Split(' ', 2)[0];
            error = $"The Authorization header uses the '{Shorten(scheme)}' scheme; this API accepts only '{Scheme} sr=..&sig=..&skn=..&se=..' tokens built from a shared access policy's key.";
            return false;
        }

        failure = SasOutcome.Malformed;
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in header[(Scheme.Length + 1)..].Trim().Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                error = $"The {Scheme} has a field without a value ('{Shorten(part)}'); expected name=value pairs joined by '&'.";
                return false;
            }

            if (!fields.TryAdd(part[..equals].Trim(), part[(equals + 1)..].Trim()))
            {
                error = $"The {Scheme} has the field '{part[..equals].Trim()}' twice.";
                return false;
            }
        }

        foreach (var required in new[] { "sr", "sig", "se" })
        {
            if (!fields.TryGetValue(required, out var value) || value.Length == 0)
            {
                error = $"The {Scheme} has no '{required}' field; it needs sr (the host), sig (the signature), se (the expiry in seconds since 1970) and, for a policy key, skn (the policy name).";
                return false;
            }
        }

        var rawExpiry = fields["se"];
        if (!long.TryParse(rawExpiry, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 253402300799)
        {
            error = $"The {Scheme} expiry se='{Shorten(rawExpiry)}' is not a number of seconds since 1970-01-01 UTC.";
            return false;
        }

        var rawResource = fields["sr"];
        string keyName = fields.TryGetValue("skn", out var skn) ? Unescape(skn) : string.Empty;
        token = new SharedAccessToken(rawResource, Unescape(rawResource), Unescape(fields["sig"]), keyName.Length == 0 ? null : keyName, rawExpiry,
            DateTimeOffset.FromUnixTimeSeconds(seconds));
        failure = SasOutcome.Valid;
        error = string.Empty;
        return true;
    }

    /// <summary>
    /// Checks a header against shared access policies for one resource, e.g. "myhub.azure-devices.net" or
    /// "myhub.azure-devices.net/devices/d1": <c>sr</c> must equal it or be a segment-wise prefix of it (case-insensitive).
    /// </summary>
    public static bool TryValidate(string? header, IEnumerable<AccessPolicy> policies, string expectedHostOrPrefix, DateTimeOffset now, out SasValidation result) =>
        TryValidate(header, policies, [expectedHostOrPrefix], now, out result);

    /// <summary>As <see cref="TryValidate(string?, IEnumerable{AccessPolicy}, string, DateTimeOffset, out SasValidation)"/>, for a resource with several names (host aliases).</summary>
    public static bool TryValidate(string? header, IEnumerable<AccessPolicy> policies, IReadOnlyCollection<string> expectedResources, DateTimeOffset now, out SasValidation result)
    {
        if (!TryParse(header, out var token, out var failure, out var error))
        {
            result = new SasValidation(failure, error);
            return false;
        }

        result = Validate(token!, policies, expectedResources, now);
        return result.IsValid;
    }

    /// <summary>Checks a parsed token: expiry, then the policy named by skn, then the signature, then the resource.</summary>
    public static SasValidation Validate(SharedAccessToken token, IEnumerable<AccessPolicy> policies, IReadOnlyCollection<string> expectedResources, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(expectedResources);
        if (IsExpired(token, now))
        {
            return new SasValidation(SasOutcome.Expired, ExpiredMessage(token), Token: token);
        }

        if (token.KeyName is null)
        {
            return new SasValidation(SasOutcome.UnknownKeyName, $"The {Scheme} has no 'skn' field: name the shared access policy whose key signed it.", Token: token);
        }

        var policy = policies.FirstOrDefault(p => p.KeyName.Equals(token.KeyName, StringComparison.OrdinalIgnoreCase));
        if (policy is null)
        {
            return new SasValidation(SasOutcome.UnknownKeyName, $"No shared access policy is named '{Shorten(token.KeyName)}'.", Token: token);
        }

        if (!VerifySignature(token, policy.PrimaryKey, policy.SecondaryKey))
        {
            return new SasValidation(SasOutcome.BadSignature,
                $"The signature does not match the primary or secondary key of the policy '{policy.KeyName}': sign sr + \"\\n\" + se with HMAC-SHA256 keyed with the base64-decoded key, then base64- and URL-encode it.",
                Token: token);
        }

        if (!ResourceMatches(token.Resource, expectedResources))
        {
            return new SasValidation(SasOutcome.WrongResource,
                $"The token is for '{Shorten(token.Resource)}', not for this service; its sr must be one of: {string.Join(", ", expectedResources.Select(r => "'" + r + "'"))}.",
                policy, token);
        }

        return new SasValidation(SasOutcome.Valid, string.Empty, policy, token);
    }

    public static bool IsExpired(SharedAccessToken token, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.ExpiresAt <= now;
    }

    public static string ExpiredMessage(SharedAccessToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return $"The shared access signature expired at {token.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)} (se={token.RawExpiry}). Create a new token.";
    }

    /// <summary>
    /// True when the signature was made with one of the keys over <c>sr</c> as sent, its URL-decoded form or its
    /// URL-encoded form (upper- or lower-case escapes, or lower-case throughout as the DPS device docs sign it). Null or empty keys are skipped; keys that are not base64 never match.
    /// </summary>
    public static bool VerifySignature(SharedAccessToken token, params string?[] base64Keys)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(base64Keys);
        var presented = new byte[32];
        if (!Convert.TryFromBase64String(token.Signature, presented, out var written) || written != presented.Length)
        {
            return false;
        }

        var encoded = Uri.EscapeDataString(token.Resource);
        var lowerEncoded = LowerEscapes(Uri.EscapeDataString(token.Resource.ToLowerInvariant())); // the docs' form for device tokens
        var resources = new[] { token.RawResource, token.Resource, encoded, LowerEscapes(encoded), lowerEncoded }.Distinct(StringComparer.Ordinal).ToArray();
        var matched = false;
        foreach (var key in base64Keys)
        {
            if (string.IsNullOrEmpty(key)) continue;
            var keyBytes = new byte[(key.Length * 3 / 4) + 3];
            if (!Convert.TryFromBase64String(key, keyBytes, out var keyLength)) continue;
            foreach (var resource in resources)
            {
                var expected = HMACSHA256.HashData(keyBytes.AsSpan(0, keyLength), Encoding.UTF8.GetBytes(resource + "\n" + token.RawExpiry));
                matched |= CryptographicOperations.FixedTimeEquals(expected, presented);
            }
        }

        return matched;
    }

    /// <summary>A resource URI matches when equal to an expected one or a segment-wise prefix of it (case-insensitive, scheme and trailing '/' ignored).</summary>
    public static bool ResourceMatches(string resource, IEnumerable<string> expectedResources)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(expectedResources);
        var granted = TrimResource(resource);
        if (granted.Length == 0) return false;
        foreach (var expected in expectedResources)
        {
            var target = TrimResource(expected);
            if (target.Equals(granted, StringComparison.OrdinalIgnoreCase)
                || (target.Length > granted.Length && target.StartsWith(granted, StringComparison.OrdinalIgnoreCase) && target[granted.Length] == '/'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when a comma-separated rights list (as policies store them) holds <paramref name="right"/>.</summary>
    public static bool HasRight(AccessPolicy policy, string right)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return (policy.Rights ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(r => r.Equals(right, StringComparison.OrdinalIgnoreCase));
    }

    private static string TrimResource(string resource)
    {
        var value = resource.Trim();
        foreach (var scheme in new[] { "https://", "http://", "amqps://", "mqtts://" })
        {
            if (value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                value = value[scheme.Length..];
                break;
            }
        }

        return value.TrimEnd('/');
    }

    /// <summary>URL-decodes without turning '+' into a space: a signature may carry an unescaped '+'.</summary>
    private static string Unescape(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value);
        }
        catch (UriFormatException)
        {
            return value;
        }
    }

    private static string LowerEscapes(string encoded)
    {
        var chars = encoded.ToCharArray();
        for (var i = 0; i + 2 < chars.Length; i++)
        {
            if (chars[i] == '%')
            {
                chars[i + 1] = char.ToLowerInvariant(chars[i + 1]);
                chars[i + 2] = char.ToLowerInvariant(chars[i + 2]);
            }
        }

        return new string(chars);
    }

    private static string Shorten(string value) => value.Length <= 60 ? value : value[..57] + "...";
}
