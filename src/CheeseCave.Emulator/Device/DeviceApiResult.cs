using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Device;

/// <summary>What the device API answers, independent of the transport: a JSON body with a status, or an error.</summary>
internal sealed record DeviceApiResult(int Status, JsonObject? Body, DeviceApiError? Error, int? RetryAfterSeconds = null)
{
    public static DeviceApiResult Ok(JsonObject body) => new(200, body, null);

    public static DeviceApiResult Fail(DeviceApiError error) => new(error.Status, null, error);
}
