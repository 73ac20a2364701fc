namespace CheeseCave.Emulator.Arm;

public static class ProvisioningServiceEndpoints
{
    public static WebApplication MapProvisioningServiceEndpoints(this WebApplication app) => app; // TODO(issue 3): filled in next
}
