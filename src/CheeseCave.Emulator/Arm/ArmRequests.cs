using System.Globalization;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Arm;

/// <summary>What every Microsoft.Devices ARM route shares: api-version, body parsing, errors and the LRO answer.</summary>
internal static class ArmRequests
{
    /// <summary>
    /// Endpoint filter for the DPS, certificate and IoT hub routes: requires ?api-version= (any value, as ARM
    /// requires one) and turns malformed bodies and <see cref="ArmErrorException"/> into ARM error bodies.
    /// </summary>
    public static ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        RunAsync(context, next, ex => ex.ToResult());

    /// <summary>
    /// <see cref="Filter"/> for the DPS and DPS-certificate routes: the resource provider's errors in Azure's flat
    /// shape with a numeric code (<see cref="ArmErrorException.ToDpsResult"/>).
    /// </summary>
    public static ValueTask<object?> DpsFilter(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        RunAsync(context, next, ex => ex.ToDpsResult());

    private static async ValueTask<object?> RunAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, Func<ArmErrorException, IResult> render)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (string.IsNullOrWhiteSpace(context.HttpContext.Request.Query["api-version"].ToString()))
        {
            return ArmErrors.MissingApiVersionParameter().ToResult();
        }

        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (ArmErrorException ex)
        {
            return render(ex);
        }
        catch (BadHttpRequestException ex)
        {
            return ArmErrors.RequestNotDeserialized(ex.Message).ToResult();
        }
    }

    /// <summary>Reads the JSON object body; an empty body is an error when <paramref name="required"/>.</summary>
    public static async Task<JsonObject?> ReadBodyAsync(HttpRequest request, bool required)
    {
        var body = await ArmJson.ReadBodyAsync(request).ConfigureAwait(false);
        if (body is null && required)
        {
            throw ArmErrors.EmptyBody();
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
        throw ArmErrors.NotAString(path);
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

        throw ArmErrors.NotABoolean(path);
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

        throw ArmErrors.NotAnInteger(path);
    }

    public static JsonObject? OptionalObject(JsonObject? obj, string name, string path)
    {
        var node = Property(obj, name);
        return node switch
        {
            null => null,
            JsonObject o => o,
            _ => throw ArmErrors.NotAnObject(path),
        };
    }

    public static JsonArray? OptionalArray(JsonObject? obj, string name, string path)
    {
        var node = Property(obj, name);
        return node switch
        {
            null => null,
            JsonArray a => a,
            _ => throw ArmErrors.NotAnArray(path),
        };
    }

    /// <summary>Tags, when the body has them: string values only, at most 50 as on Azure.</summary>
    public static Dictionary<string, string>? OptionalTags(JsonObject? body)
    {
        var tags = OptionalObject(body, "tags", "tags");
        if (tags is null) return null;
        if (tags.Count > 50)
        {
            throw ArmErrors.TooManyTags();
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            result[key] = value switch
            {
                null => string.Empty,
                JsonValue v when v.TryGetValue<string>(out var text) => text,
                JsonValue v => v.ToJsonString(),
                _ => throw ArmErrors.TagNotAString(key),
            };
        }

        return result;
    }

    /// <summary>
    /// The status URL of a long-running operation under the subscription, as Azure's newer answers give it:
    /// /subscriptions/{sub}/providers/Microsoft.Devices/locations/{region}/{kindSegment}/{id}?api-version=..[&amp;asyncinfo].
    /// With asyncinfo it is the Azure-AsyncOperation URL ({"status":..}); without, the Location URL (202 until done).
    /// </summary>
    public static string OperationUrl(HttpContext http, EmulatorContext ctx, string subscriptionId, string location, string kindSegment, ArmOperation operation, bool asyncInfo)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(operation);
        var apiVersion = http.Request.Query["api-version"].ToString();
        return $"https://{ctx.HttpsHost}/subscriptions/{subscriptionId}/providers/Microsoft.Devices/locations/{Escape(location)}/{kindSegment}/{operation.Id}"
            + $"?api-version={Uri.EscapeDataString(apiVersion)}" + (asyncInfo ? "&asyncinfo" : string.Empty);
    }

    /// <summary>
    /// Answers a status URL: with asyncinfo, 200 {"status":"Running"|"Succeeded"}; without (the Location URL), 202
    /// while running and 204 when done, never 404 (a final 404 fails both SDK families, docs/azure-wire.md §4.4, §4.5).
    /// </summary>
    public static IResult OperationStatus(HttpRequest request, EmulatorContext ctx, string operationId)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(ctx);
        var status = ctx.LongOperations.StatusOf(operationId);
        if (status is null) return ArmErrors.OperationNotFound(operationId).ToResult();
        if (request.Query.ContainsKey("asyncinfo")) return Results.Json(new JsonObject { ["status"] = status });
        return status == "Succeeded" ? Results.NoContent() : Results.StatusCode(202);
    }

    /// <summary>The status resource behind the older per-resource Azure-AsyncOperation URL ({resource}/operationresults/{id}).</summary>
    public static IResult OperationResult(EmulatorContext ctx, string operationId)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        return ctx.LongOperations.StatusOf(operationId) is { } status
            ? Results.Json(new JsonObject { ["status"] = status })
            : ArmErrors.OperationNotFound(operationId).ToResult();
    }

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

    public static JsonObject PolicyWithKeys(State.AccessPolicy policy) => new()
    {
        ["keyName"] = policy.KeyName,
        ["primaryKey"] = policy.PrimaryKey,
        ["secondaryKey"] = policy.SecondaryKey,
        ["rights"] = policy.Rights,
    };
}
