namespace CheeseCave.Emulator.Arm;

public static class IotHubEndpoints
{
    public static WebApplication MapIotHubEndpoints(this WebApplication app) => app; // TODO(issue 3): filled in next
}
