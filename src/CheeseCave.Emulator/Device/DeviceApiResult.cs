using System.Globalization;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// A DPS data-plane error before it is put on a wire: HTTPS writes it through ErrorResponses.Dps, MQTT publishes
/// <see cref="ToJson"/> on $dps/registrations/res/{status}/. Both produce the same body.
/// </summary>
internal sealed record DeviceApiError(int Status, int ErrorCode, string Message, JsonObject Info)
{
    public JsonObject ToJson(DateTimeOffset now) => new()
    {
        ["errorCode"] = ErrorCode,
        ["trackingId"] = Guid.NewGuid().ToString(),
        ["message"] = Message,
        ["info"] = Info.DeepClone(),
        ["timestampUtc"] = now.UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
    };
}

/// <summary>What the device API answers, independent of the transport: a JSON body with a status, or an error.</summary>
internal sealed record DeviceApiResult(int Status, JsonObject? Body, DeviceApiError? Error, int? RetryAfterSeconds = null)
{
    public static DeviceApiResult Ok(JsonObject body) => new(200, body, null);

    public static DeviceApiResult Fail(int status, int errorCode, string message, JsonObject? info = null) =>
        new(status, null, new DeviceApiError(status, errorCode, message, info ?? []));

    public static DeviceApiResult Fail(DeviceApiError error) => new(error.Status, null, error);
}

/// <summary>
/// The six-digit DPS error codes the emulator uses. Only 401002 and 400004 are seen in public reports of the live
/// service; the others are the emulator's choice in the same status × 1000 + detail pattern.
/// </summary>
internal static class DeviceErrorCodes
{
    public const int BadRequest = 400004;
    public const int Unauthorized = 401002;
    public const int NotFound = 404201;
    public const int Throttled = 429001;
    public const int Unavailable = 503000;
}
