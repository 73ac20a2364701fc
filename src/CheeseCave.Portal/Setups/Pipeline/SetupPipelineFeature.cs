namespace CheeseCave.Portal.Setups.Pipeline;

public static class SetupPipelineFeature
{
    /// <summary>The pipeline every setup slice runs its changes through.</summary>
    public static IServiceCollection AddSetupPipeline(this IServiceCollection services)
    {
        services.AddScoped<SetupPipeline>();
        return services;
    }
}
