namespace CheeseCave.Portal.Setups.HubDevices;

public static class HubDevicesFeature
{
    public static IServiceCollection AddHubDevices(this IServiceCollection services) => services.AddScoped<HubDevicesHandler>();
}
