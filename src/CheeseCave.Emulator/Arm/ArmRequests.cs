using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Arm;

/// <summary>
/// An ARM error raised anywhere in a handler (also inside a store transaction, before anything is written) and
/// turned into {"error":{code,message}} by <see cref="ArmRequests.Filter"/>.
/// </summary>
internal sealed class ArmErrorException : Exception
{
    public ArmErrorException()
        : this(500, "InternalServerError", "The emulator failed.")
    {
    }

    public ArmErrorException(string message)
        : this(400, "BadRequest", message)
    {
    }

    public ArmErrorException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 400;
        Code = "BadRequest";
    }

    public ArmErrorException(int status, string code, string message)
        : base(message)
    {
        Status = status;
        Code = code;
    }

    public int Status { get; }

    public string Code { get; }

    public IResult ToResult() => ErrorResponses.Arm(Status, Code, Message);
}

/// <summary>What every Microsoft.Devices ARM route shares: api-version, body parsing, errors and the LRO answer.</summary>
internal static class ArmRequests
{
    /// <summary>
    /// Endpoint filter for the DPS, certificate and IoT hub routes: requires ?api-version= (any value, as ARM
    /// requires one) and turns malformed bodies and <see cref="ArmErrorException"/> into ARM error bodies.
    /// </summary>
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (string.IsNullOrWhiteSpace(context.HttpContext.Request.Query["api-version"].ToString()))
        {
            return ErrorResponses.Arm(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
        }

        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (ArmErrorException ex)
        {
            return ex.ToResult();
        }
        catch (BadHttpRequestException ex)
        {
            return ErrorResponses.Arm(400, "InvalidRequestContent", $"The request content was invalid and could not be deserialized: {ex.Message}");
        }
    }

    /// <summary>Reads the JSON object body; an empty body is an error when <paramref name="required"/>.</summary>
    public static async Task<JsonObject?> ReadBodyAsync(HttpRequest request, bool required)
    {
        var body = await ArmJson.ReadBodyAsync(request).ConfigureAwait(false);
        if (body is null && required)
        {
            throw new ArmErrorException(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: the body is empty, a JSON object is required.");
        }

        return body;
    }

    /// <summary>A property by name, exact first and then ignoring case (ARM reads JSON case-insensitively).</summary>
    public static JsonNode? Property(JsonObject? obj, string name)
    {
        if (obj is null) return null;
        if (obj.TryGetPropertyValue(name, out var exact)) return exact;
        foreach (var (key, value) in obj)
        {
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase)) return value;
        }

        return null;
    }

    public static string? OptionalString(JsonObject? obj, string name, string path)
    {
        var node = Property(obj, name);
        if (node is null) return null;
        if (node is JsonValue value && value.TryGetValue<string>(out var text)) return text;
        throw Invalid($"'{path}' must be a string.");
    }

    public static bool? OptionalBool(JsonObject? obj, string name, string path)
    {
        var node = Property(obj, name);
        if (node is null) return null;
        if (node is JsonValue value)
        {
            if (value.TryGetValue<bool>(out var flag)) return flag;
            if (value.TryGetValue<string>(out var text) && bool.TryParse(text, out flag)) return flag;
        }

        throw Invalid($"'{path}' must be true or false.");
    }

    public static long? OptionalInteger(JsonObject? obj, string name, string path)
    {
        var node = Property(obj, name);
        if (node is null) return null;
        if (node is JsonValue value)
        {
            if (value.TryGetValue<long>(out var number)) return number;
            if (value.TryGetValue<double>(out var real) && real == Math.Floor(real) && Math.Abs(real) < long.MaxValue) return (long)real;
            if (value.TryGetValue<string>(out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out number)) return number;
        }

        throw Invalid($"'{path}' must be an integer.");
    }

    public static JsonObject? OptionalObject(JsonObject? obj, string name, string path)
    {
        var node = Property(obj, name);
        return node switch
        {
            null => null,
            JsonObject o => o,
            _ => throw Invalid($"'{path}' must be a JSON object."),
        };
    }

    public static JsonArray? OptionalArray(JsonObject? obj, string name, string path)
    {
        var node = Property(obj, name);
        return node switch
        {
            null => null,
            JsonArray a => a,
            _ => throw Invalid($"'{path}' must be a JSON array."),
        };
    }

    /// <summary>Tags, when the body has them: string values only, at most 50 as on Azure.</summary>
    public static Dictionary<string, string>? OptionalTags(JsonObject? body)
    {
        var tags = OptionalObject(body, "tags", "tags");
        if (tags is null) return null;
        if (tags.Count > 50)
        {
            throw new ArmErrorException(400, "InvalidTag", "A resource can have at most 50 tags.");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            result[key] = value switch
            {
                null => string.Empty,
                JsonValue v when v.TryGetValue<string>(out var text) => text,
                JsonValue v => v.ToJsonString(),
                _ => throw new ArmErrorException(400, "InvalidTag", $"The tag '{key}' must have a string value."),
            };
        }

        return result;
    }

    public static ArmErrorException Invalid(string message) => new(400, "InvalidRequestContent", message);

    /// <summary>
    /// The creation answer of an ARM long-running PUT: 201 with the final body, an Azure-AsyncOperation status URL
    /// (which answers Succeeded at once) and Retry-After: 1. Azure.Core's NextLinkOperationImplementation polls the
    /// status URL and then GETs the resource; core-lro does the same (docs/azure-wire.md §4.4, §4.5).
    /// </summary>
    public static IResult CreatedAsync(HttpContext http, EmulatorContext ctx, string resourcePath, JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(ctx);
        var apiVersion = http.Request.Query["api-version"].ToString();
        http.Response.Headers["Azure-AsyncOperation"] =
            $"https://{ctx.HttpsHost}{resourcePath}/operationresults/{NewOperationId()}?api-version={Uri.EscapeDataString(apiVersion)}&asyncinfo";
        http.Response.Headers.RetryAfter = "1";
        return Results.Json(body, statusCode: 201);
    }

    /// <summary>Operation ids look like Azure's: base64 of a GUID's text. Nothing is stored: every operation has already finished.</summary>
    public static string NewOperationId() => Convert.ToBase64String(Encoding.ASCII.GetBytes(Guid.NewGuid().ToString()));

    /// <summary>The status resource behind Azure-AsyncOperation.</summary>
    public static IResult OperationResult(string operationId)
    {
        try
        {
            var text = Encoding.ASCII.GetString(Convert.FromBase64String(operationId));
            if (Guid.TryParse(text, out _))
            {
                return Results.Json(new JsonObject { ["status"] = "Succeeded" });
            }
        }
        catch (FormatException)
        {
        }

        return ErrorResponses.Arm(404, "OperationNotFound", $"The operation '{operationId}' was not found: use the Azure-AsyncOperation URL returned by the request that started it.");
    }

    /// <summary>"Resource not found" as ARM words it.</summary>
    public static IResult ResourceNotFound(string type, string name, string resourceGroup) =>
        ErrorResponses.Arm(404, "ResourceNotFound", $"The Resource '{type}/{name}' under resource group '{resourceGroup}' was not found.");

    public static string Rfc1123(DateTimeOffset time) => time.ToUniversalTime().ToString("r", CultureInfo.InvariantCulture);

    public static string Escape(string segment) => Uri.EscapeDataString(segment);

    public static string GroupPath(string subscriptionId, string resourceGroup) => $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}";

    /// <summary>The name-availability answer shared by DPS and IoT Hub.</summary>
    public static JsonObject NameAvailability(bool available, string? reason, string message)
    {
        var result = new JsonObject { ["nameAvailable"] = available };
        if (reason is not null) result["reason"] = reason;
        result["message"] = message;
        return result;
    }

    /// <summary>A shared access key: 32 random bytes, or a caller's key if it is base64 of 16 to 64 bytes.</summary>
    public static string KeyOrNew(string? given, string path)
    {
        if (string.IsNullOrEmpty(given)) return EmulatorContext.NewKey();
        var buffer = new byte[given.Length];
        if (!Convert.TryFromBase64String(given, buffer, out var length) || length < 16 || length > 64)
        {
            throw Invalid($"'{path}' must be base64 of 16 to 64 bytes (or leave it out and the emulator generates one).");
        }

        return given;
    }

    /// <summary>Compares two shared access keys without leaking timing.</summary>
    public static bool KeyEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    public static JsonObject PolicyWithKeys(State.AccessPolicy policy) => new()
    {
        ["keyName"] = policy.KeyName,
        ["primaryKey"] = policy.PrimaryKey,
        ["secondaryKey"] = policy.SecondaryKey,
        ["rights"] = policy.Rights,
    };

    /// <summary>Parses "A, B" against the allowed rights (any case), returning them in canonical spelling.</summary>
    public static string NormalizeRights(string? rights, IReadOnlyList<string> allowed, string path)
    {
        if (string.IsNullOrWhiteSpace(rights))
        {
            throw Invalid($"'{path}' is required: one or more of {string.Join(", ", allowed)}, comma-separated.");
        }

        var result = new List<string>();
        foreach (var part in rights.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var known = allowed.FirstOrDefault(a => a.Equals(part, StringComparison.OrdinalIgnoreCase))
                ?? throw Invalid($"'{path}' has the unknown right '{part}'; the rights are {string.Join(", ", allowed)}.");
            if (!result.Contains(known)) result.Add(known);
        }

        if (result.Count == 0)
        {
            throw Invalid($"'{path}' is required: one or more of {string.Join(", ", allowed)}, comma-separated.");
        }

        return string.Join(", ", result);
    }

    public static bool HasRight(string rights, string right) =>
        rights.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Contains(right, StringComparer.OrdinalIgnoreCase);
}
