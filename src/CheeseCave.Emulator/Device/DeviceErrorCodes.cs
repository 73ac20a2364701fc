namespace CheeseCave.Emulator.Device;

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
