using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Service;

/// <summary>Typed reads of enrollment body fields, with the DPS service errors that say what a field must be.</summary>
internal static class EnrollmentFields
{
    public static string? GetString(JsonObject parent, string name, string where)
    {
        var node = parent[name];
        if (node is null) return null;
        if (node is JsonValue value && value.TryGetValue<string>(out var text)) return text;
        throw Bad(ErrorCodes.InvalidRequestBody, $"{(where == "the body" ? name : where + "." + name)} must be a string, not {Describe(node)}.");
    }

    public static bool? Bool(JsonObject parent, string name, string where)
    {
        var node = parent[name];
        if (node is null) return null;
        if (node is JsonValue value && value.TryGetValue<bool>(out var flag)) return flag;
        throw Bad(ErrorCodes.InvalidEnrollmentField, $"{where}.{name} must be true or false, not {Describe(node)}.");
    }

    public static string Describe(JsonNode node) => node.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.Object => "an object",
        System.Text.Json.JsonValueKind.Array => "an array",
        System.Text.Json.JsonValueKind.String => "a string",
        System.Text.Json.JsonValueKind.Number => "a number",
        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "a boolean",
        _ => "null",
    };

    public static ServiceErrorException Bad(int code, string message, JsonObject? info = null) => new(ServiceError.BadRequest(code, message, info));
}
