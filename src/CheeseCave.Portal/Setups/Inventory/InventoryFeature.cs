using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Setups.Inventory;

public static class InventoryFeature
{
    /// <summary>The inventory handler and its DPS look-ups, its options (checked at start), and the one-time backfill (after migrations).</summary>
    public static IServiceCollection AddInventory(this IServiceCollection services)
    {
        services.AddOptions<InventoryOptions>().BindConfiguration(InventoryOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<InventoryOptions>, InventoryOptionsValidator>();
        services.AddScoped<DpsPlacements>();
        services.AddScoped<InventoryHandler>();
        services.AddSingleton<InventoryBackfill>();
        services.AddHostedService(sp => sp.GetRequiredService<InventoryBackfill>());
        return services;
    }

    private sealed class InventoryOptionsValidator : IValidateOptions<InventoryOptions>
    {
        public ValidateOptionsResult Validate(string? name, InventoryOptions options)
        {
            var problems = options.Problems().ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
