using System.Globalization;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Hosting;

/// <summary>
/// Every error the emulator returns, in the shape of the surface that returns it (as Azurite keeps one factory):
/// ARM's {"error":{code,message}} and the DPS data plane's {errorCode,trackingId,message,info,timestampUtc}.
/// </summary>
internal static class ErrorResponses
{
    public static IResult Arm(int status, string code, string message) =>
        Results.Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, statusCode: status);

    public static IResult ArmNotFound(string what, string name) =>
        Arm(404, "ResourceNotFound", $"The {what} '{name}' was not found.");

    public static IResult ArmPreconditionFailed(string name) =>
        Arm(412, "PreconditionFailed", $"The etag in If-Match does not match the current etag of '{name}'. Read it again and retry with the new etag.");

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
