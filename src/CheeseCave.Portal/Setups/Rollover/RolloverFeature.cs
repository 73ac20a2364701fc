using CheeseCave.Portal.Approvals;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>
/// The CA rollover wizard (/setups/{id}/rollover). Its downloads are the device batch endpoints of step 9 (a re-issue
/// is recorded in batches like step 9's), so it maps no endpoints of its own.
/// </summary>
public static class RolloverFeature
{
    public static IServiceCollection AddCaRollover(this IServiceCollection services) =>
        services.AddSingleton<RolloverRuns>()
            .AddScoped<RolloverStepRunner>()
            .AddScoped<RolloverReader>()
            .AddScoped<RolloverStartHandler>()
            .AddScoped<RolloverCaSteps>()
            .AddScoped<RolloverGroupSteps>()
            .AddScoped<RolloverReissue>()
            .AddApprovalHandler<StartRolloverPayload, StartRolloverApproval>()
            .AddApprovalHandler<RolloverStepPayload, RolloverStepApproval>();
}
