using System.Text;

namespace CheeseCave.Emulator.Hub;

/// <summary>
/// The URL-encoded "key=value&amp;key2=value2" segment IoT Hub puts at the end of telemetry and cloud-to-device
/// topics. Keys starting with "$." are system properties ($.mid message id, $.cid correlation id, $.ct content type,
/// $.ce content encoding, $.to, $.uid, $.exp); the rest are application properties.
/// </summary>
internal static class PropertyBag
{
    public static (Dictionary<string, string> Application, Dictionary<string, string> System) Parse(string bag)
    {
        var application = new Dictionary<string, string>(StringComparer.Ordinal);
        var system = new Dictionary<string, string>(StringComparer.Ordinal);
        if (bag.Length == 0) return (application, system);
        foreach (var pair in bag.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Decode(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? string.Empty : Decode(pair[(equals + 1)..]);
            if (key.StartsWith("$.", StringComparison.Ordinal))
            {
                system[key] = value;
            }
            else if (key.Length > 0)
            {
                application[key] = value;
            }
        }

        return (application, system);
    }

    /// <summary>Every key and value percent-encoded, so a '/' in a value never splits the topic (the Node SDK splits on it).</summary>
    public static string Format(IEnumerable<KeyValuePair<string, string>> properties)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in properties)
        {
            if (text.Length > 0) text.Append('&');
            text.Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
        }

        return text.ToString();
    }

    // '+' is a space in the form encoding the Node SDK's querystring.stringify uses for some characters.
    private static string Decode(string text) =>
        text.AsSpan().IndexOfAny('+', '%') < 0 ? text : Uri.UnescapeDataString(text.Replace('+', ' '));
}
