namespace CheeseCave.Emulator.Device;

public static class DeviceEndpoints
{
    public static WebApplication MapDeviceEndpoints(this WebApplication app) => app; // TODO(issue 3): filled in next
}
