namespace CheeseCave.Emulator.Arm;

/// <summary>
/// ARM's optimistic concurrency: the If-Match rules of DPS, hub and certificate writes. Called inside the store
/// transaction, so two clients holding the same etag cannot both win.
/// </summary>
internal static class IfMatch
{
    /// <summary>ARM's If-Match: absent, "*" or the exact etag (quoted or not).</summary>
    public static bool Accepts(string? header, string currentEtag, bool required)
    {
        if (string.IsNullOrEmpty(header)) return !required;
        if (header == "*") return true;
        // The exact value first: an etag is opaque base64, and "W/..." can be a real etag rather than a weak marker.
        var value = header.Trim();
        if (value == currentEtag || value.Trim('"') == currentEtag) return true;
        return value.StartsWith("W/", StringComparison.Ordinal) && value[2..].Trim('"') == currentEtag;
    }

    public static bool IsPresent(string? header) => !string.IsNullOrEmpty(header);

    /// <summary>The If-Match header as sent (empty when absent): the store's rules take the value, not the request.</summary>
    public static string Of(HttpRequest request) => request.Headers.IfMatch.ToString();

    /// <summary>A PUT on an existing DPS or hub: If-Match is optional, but when sent it must match.</summary>
    public static void CheckOptional(string? header, string currentEtag, string resourceNoun, string name)
    {
        if (!Accepts(header, currentEtag, required: false))
        {
            throw ArmErrors.PreconditionFailed(resourceNoun, name);
        }
    }

    /// <summary>generateVerificationCode, verify and delete of a certificate: required, and exactly the current etag or "*".</summary>
    public static void CheckRequired(string? header, string currentEtag, string operation, string certificateName)
    {
        if (!IsPresent(header))
        {
            throw ArmErrors.MissingIfMatchHeader(operation, certificateName);
        }

        if (!Accepts(header, currentEtag, required: true))
        {
            throw ArmErrors.CertificateEtagStale(certificateName);
        }
    }
}
