namespace CheeseCave.Portal.Setups.Overview;

public static class OverviewFeature
{
    public static IServiceCollection AddSetupOverview(this IServiceCollection services) => services.AddScoped<SetupOverviewHandler>();
}
