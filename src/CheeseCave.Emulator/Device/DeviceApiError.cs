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
