using CheeseCave.Portal.Approvals;

namespace CheeseCave.Portal.Setups.Renewal;

public static class RenewalFeature
{
    /// <summary>Renewal's files (the new key and PFX) are downloaded through the device download endpoints of step 9.</summary>
    public static IServiceCollection AddRenewal(this IServiceCollection services) =>
        services.AddScoped<DeviceRenewalHandler>()
            .AddApprovalHandler<RenewDevicePayload, RenewDeviceApproval>();
}
