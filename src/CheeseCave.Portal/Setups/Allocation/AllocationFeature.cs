namespace CheeseCave.Portal.Setups.Allocation;

public static class AllocationFeature
{
    public static IServiceCollection AddAllocationStep(this IServiceCollection services) => services.AddScoped<AllocationHandler>();
}
