namespace CheeseCave.Portal.Setups.Hubs;

public static class HubsFeature
{
    public static IServiceCollection AddHubsStep(this IServiceCollection services) => services.AddScoped<HubsHandler>();
}
