namespace CheeseCave.Portal.Setups.Operations;

public static class OperationsFeature
{
    /// <summary>Long actions outlive the circuit that started them (SETUP-WIZARD.md, Long operations).</summary>
    public static IServiceCollection AddSetupOperations(this IServiceCollection services) => services.AddSingleton<SetupOperations>();
}
