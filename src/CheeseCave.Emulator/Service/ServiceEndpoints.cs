namespace CheeseCave.Emulator.Service;

public static class ServiceEndpoints
{
    public static WebApplication MapServiceEndpoints(this WebApplication app) => app; // TODO(issue 3): filled in next
}
