namespace CheeseCave.Portal.Setups.Dps;

public static class DpsFeature
{
    public static IServiceCollection AddDpsStep(this IServiceCollection services) => services.AddScoped<DpsHandler>();
}
