using CheeseCave.Portal.Approvals;

namespace CheeseCave.Portal.Setups.Upload;

public static class UploadFeature
{
    public static IServiceCollection AddUploadStep(this IServiceCollection services) =>
        services.AddScoped<UploadHandler>()
            .AddApprovalHandler<UploadCaPayload, UploadCaApproval>();
}
