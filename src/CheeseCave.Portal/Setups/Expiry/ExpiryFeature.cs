using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Setups.Expiry;

public static class ExpiryFeature
{
    /// <summary>The expiry overview, the background watch and its notifiers; settings are checked when the portal starts.</summary>
    public static IServiceCollection AddExpiryWatch(this IServiceCollection services)
    {
        services.AddOptions<ExpiryWatchOptions>().BindConfiguration(ExpiryWatchOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ExpiryWatchOptions>, ExpiryWatchOptionsValidator>();
        services.AddHttpClient(WebhookNotifier.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan); // each attempt has its own timeout
        services.AddSingleton<IExpiryNotifier, WebhookNotifier>();
        services.AddSingleton<IExpiryNotifier, EmailNotifier>();
        services.AddSingleton<ExpiryCheck>();
        services.AddSingleton<ExpiryWatchStatus>();
        services.AddScoped<ExpiryOverviewHandler>();
        services.AddHostedService<ExpiryWatch>();
        return services;
    }

    private sealed class ExpiryWatchOptionsValidator : IValidateOptions<ExpiryWatchOptions>
    {
        public ValidateOptionsResult Validate(string? name, ExpiryWatchOptions options)
        {
            var problems = ExpiryWatchOptionsCheck.Problems(options).ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
