using System.Globalization;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Hosting;

/// <summary>
/// How the emulator renders an error, in the shape of the surface that returns it: ARM's {"error":{code,message}}
/// and the DPS data plane's {errorCode,trackingId,message,info,timestampUtc}. The errors themselves (status, code,
/// message) come from the factories ArmErrors, ServiceErrors and DeviceErrors.
/// </summary>
internal static class ErrorResponses
{
    public static IResult Arm(int status, string code, string message) =>
        Results.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, statusCode: status);

    /// <summary>The DPS resource provider's flat ARM error (ErrorDetails) with a numeric code, as Azure sends it.</summary>
    public static IResult ArmFlat(int status, int numericCode, string details, string message) =>
        Results.Json(new JsonObject
        {
            ["code"] = numericCode,
            ["httpStatusCode"] = ((System.Net.HttpStatusCode)status).ToString(),
            ["message"] = message,
            ["details"] = details,
        }, statusCode: status);

    /// <summary>DPS data-plane error. <paramref name="errorCode"/> is the six-digit DPS code (status × 1000 + detail).</summary>
    public static IResult Dps(HttpContext context, int status, int errorCode, string message, JsonObject? info = null)
    {
        context.Response.Headers["x-ms-error-code"] = errorCode.ToString(CultureInfo.InvariantCulture);
        return Results.Json(new JsonObject
        {
            ["errorCode"] = errorCode,
            ["trackingId"] = Guid.NewGuid().ToString(),
            ["message"] = message,
            ["info"] = info ?? new JsonObject(),
            ["timestampUtc"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture),
        }, statusCode: status);
    }
}
