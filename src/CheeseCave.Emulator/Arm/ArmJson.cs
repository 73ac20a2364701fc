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
}
