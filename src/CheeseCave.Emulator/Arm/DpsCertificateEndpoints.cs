namespace CheeseCave.Emulator.Arm;

public static class DpsCertificateEndpoints
{
    public static WebApplication MapDpsCertificateEndpoints(this WebApplication app) => app; // TODO(issue 3): filled in next
}
