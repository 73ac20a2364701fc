namespace CheeseCave.Portal.Setups.Operations;

public static class OperationsFeature
{
    public static IServiceCollection AddSetupOperations(this IServiceCollection services) => services
        .AddSingleton<SetupOperationLedger>()
        .AddSingleton<SetupOperations>()
        .AddSingleton<Cluster.IClusterSweep>(sp => sp.GetRequiredService<SetupOperations>());
}
