using System.Text.Json;
using System.Text.Json.Serialization;

namespace CheeseCave.Provisioning.DpsService;

/// <summary>The serializer settings of the DPS wire format (service and device APIs).</summary>
public static class DpsJson
{
    /// <summary>camelCase enum values, nulls left out, property names read ignoring case.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
