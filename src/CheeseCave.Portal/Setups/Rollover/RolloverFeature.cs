using CheeseCave.Portal.Approvals;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>
/// The CA rollover wizard (/setups/{id}/rollover). Its device downloads are the batch endpoints of step 9 (a re-issue
/// is recorded in batches like step 9's); its own endpoints are the new CA's import form post and the verification
/// code download (<see cref="RolloverEndpoints"/>).
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
            .AddScoped<RolloverCancel>()
            .AddScoped<RolloverProof>()
            .AddScoped<RolloverImport>()
            .AddSingleton<RolloverImportOutcomes>()
            .AddHostedService<RolloverKeySweep>() // registered after the database initializer, so it runs after migrations
            .AddApprovalHandler<StartRolloverPayload, StartRolloverApproval>()
            .AddApprovalHandler<RolloverStepPayload, RolloverStepApproval>()
            .AddApprovalHandler<CancelRolloverPayload, CancelRolloverApproval>()
            .AddApprovalHandler<ImportRolloverPayload, ImportRolloverApproval>();
}
