using CheeseCave.Portal.Approvals;

namespace CheeseCave.Portal.Setups.Revocation;

public static class RevocationFeature
{
    public static IServiceCollection AddRevocation(this IServiceCollection services) =>
        services.AddScoped<DeviceRevocationHandler>()
            .AddScoped<CaRevocationHandler>()
            .AddScoped<DeviceCertificateReader>()
            .AddApprovalHandler<RevokeDevicePayload, RevokeDeviceApproval>()
            .AddApprovalHandler<RestoreDevicePayload, RestoreDeviceApproval>()
            .AddApprovalHandler<RevokeCaPayload, RevokeCaApproval>();
}
