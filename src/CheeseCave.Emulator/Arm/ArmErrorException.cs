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
