using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Service;

/// <summary>A DPS service error, carried from validation code to the endpoint that returns it.</summary>
internal sealed record ServiceError(int Status, int Code, string Message, JsonObject? Info = null)
{
    public IResult ToResult(HttpContext http) => ErrorResponses.Dps(http, Status, Code, Message, Info);

    public static ServiceError BadRequest(int code, string message, JsonObject? info = null) => new(400, code, message, info);
}
