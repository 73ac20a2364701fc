using CheeseCave.Portal.Approvals;

namespace CheeseCave.Portal.Setups.Enrollment;

public static class EnrollmentFeature
{
    public static IServiceCollection AddEnrollmentStep(this IServiceCollection services) =>
        services.AddScoped<EnrollmentHandler>()
            .AddApprovalHandler<SaveEnrollmentGroupPayload, SaveEnrollmentGroupApproval>()
            .AddApprovalHandler<DeleteEnrollmentGroupPayload, DeleteEnrollmentGroupApproval>();
}
