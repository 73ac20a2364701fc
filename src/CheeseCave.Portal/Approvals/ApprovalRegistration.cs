using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Approvals;

/// <summary>Four eyes: registrations, called from ServiceRegistration; features add their handlers.</summary>
public static class ApprovalRegistration
{
    public static IServiceCollection AddApprovals(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApprovalOptions>().Bind(configuration.GetSection(ApprovalOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApprovalOptions>, ApprovalOptionsValidator>();
        services.AddSingleton<ApprovalEvents>();
        services.AddSingleton<ApprovalHandoff>();
        services.AddSingleton<ApprovalGate>();
        services.AddSingleton<ApprovalApplier>();
        services.AddScoped<ApprovalService>();
        services.AddSingleton<Cluster.IClusterSweep, InterruptedApprovals>(); // at start-up (after migrations) and after every heartbeat
        return services;
    }

    /// <summary>
    /// How a feature makes its payload approvable: an approved <typeparamref name="TPayload"/> is applied by
    /// <typeparamref name="THandler"/> (resolved in a scope of its own, as the approver).
    /// </summary>
    public static IServiceCollection AddApprovalHandler<TPayload, THandler>(this IServiceCollection services)
        where TPayload : ApprovalPayload
        where THandler : ApprovalHandler<TPayload>
    {
        services.AddScoped<IApprovalHandler, THandler>();
        return services;
    }
}
