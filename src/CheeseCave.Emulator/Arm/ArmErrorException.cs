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

    /// <summary>
    /// Raised by ARM itself (authentication, subscription, resource group, api-version, unknown resource), which
    /// answers {"error":{...}} for every provider; the rest come from the DPS resource provider (see <see cref="ToDpsResult"/>).
    /// </summary>
    public bool FromFrontDoor { get; init; }

    public IResult ToResult() => ErrorResponses.Arm(Status, Code, Message);

    /// <summary>
    /// On DPS routes: the resource provider's own errors in the flat shape Azure's recorded traffic shows,
    /// {"code":&lt;number&gt;,"httpStatusCode":"BadRequest","message":..,"details":..} (docs/azure-wire.md §1.6); the
    /// number is status × 1000 + a detail of the emulator's own, and details names the emulator's code. Front-door
    /// errors keep ARM's shape.
    /// </summary>
    public IResult ToDpsResult() =>
        FromFrontDoor ? ToResult() : ErrorResponses.ArmFlat(Status, Status * 1000 + ArmErrors.DetailNumber(Code), Code, Message);
}
