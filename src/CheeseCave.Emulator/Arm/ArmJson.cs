using System.Text.Json;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Arm;

/// <summary>Small JSON helpers shared by the ARM endpoints.</summary>
internal static class ArmJson
{
    /// <summary>Reads a JSON object body; null when the body is empty. Throws <see cref="BadHttpRequestException"/> on malformed JSON.</summary>
    public static async Task<JsonObject?> ReadBodyAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new BadHttpRequestException("The request body must be a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new BadHttpRequestException($"The request body is not valid JSON: {ex.Message}");
        }
    }

    public static Dictionary<string, string>? ReadTags(JsonObject? body) =>
        body?["tags"] is JsonObject tags ? tags.Where(t => t.Value is not null).ToDictionary(t => t.Key, t => t.Value!.ToString()) : null;

    public static JsonObject Tags(Dictionary<string, string> tags)
    {
        var result = new JsonObject();
        foreach (var (key, value) in tags) result[key] = value;
        return result;
    }

    public static JsonObject List(IEnumerable<JsonNode> items) => new() { ["value"] = new JsonArray([.. items]), ["nextLink"] = null };

    /// <summary>ARM's If-Match: absent, "*" or the exact etag (quoted or not).</summary>
    public static bool IfMatchAccepts(HttpRequest request, string currentEtag, bool required)
    {
        var header = request.Headers.IfMatch.ToString();
        if (string.IsNullOrEmpty(header)) return !required;
        if (header == "*") return true;
        // The exact value first: an etag is opaque base64, and "W/..." can be a real etag rather than a weak marker.
        var value = header.Trim();
        if (value == currentEtag || value.Trim('"') == currentEtag) return true;
        return value.StartsWith("W/", StringComparison.Ordinal) && value[2..].Trim('"') == currentEtag;
    }

    public static bool HasIfMatch(HttpRequest request) => !string.IsNullOrEmpty(request.Headers.IfMatch.ToString());
}

/// <summary>Azure's naming rules, checked with the messages people need.</summary>
internal static partial class ArmNames
{
    /// <summary>DPS and IoT Hub names: 3-50 letters, digits and hyphens, not all digits, no leading or trailing hyphen.</summary>
    public static bool IsValidDevicesResourceName(string name) => DevicesName().IsMatch(name);

    public static bool IsValidResourceGroupName(string name) => GroupName().IsMatch(name) && !name.EndsWith('.');

    /// <summary>"East US" → "eastus", as ARM echoes locations.</summary>
    public static string NormalizeLocation(string location) => location.Replace(" ", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

    [System.Text.RegularExpressions.GeneratedRegex("^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{2,49}[a-zA-Z0-9]$")]
    private static partial System.Text.RegularExpressions.Regex DevicesName();

    [System.Text.RegularExpressions.GeneratedRegex(@"^[-\w\._\(\)]{1,90}$")]
    private static partial System.Text.RegularExpressions.Regex GroupName();
}
