namespace CheeseCave.Portal.Setups.TestRegistration;

public static class TestRegistrationFeature
{
    public static IServiceCollection AddTestRegistrationStep(this IServiceCollection services) => services.AddScoped<TestRegistrationHandler>();
}
