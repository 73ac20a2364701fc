using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Automation.Api;
using CheeseCave.Portal.Automation.Grants;
using CheeseCave.Portal.Automation.Tokens;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.RateLimiting;

namespace CheeseCave.Portal.Automation;

/// <summary>Personal API tokens, issuance grants, CSR signing and <c>/api/v1</c> with its OpenAPI document.</summary>
public static class AutomationFeature
{
    /// <summary>Call after the setups are registered: it wraps their <see cref="ICallerAuthorization"/> with the token scope cap.</summary>
    public static IServiceCollection AddAutomation(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<AutomationOptions>().Bind(configuration.GetSection(AutomationOptions.SectionName));
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenPrincipal.Scheme, null);
        services.AddAuthorization(ApiPolicies.Add);
        services.Configure<RateLimiterOptions>(options => options.AddPolicy<string, ApiRateLimitPolicy>(ApiRateLimitPolicy.Name));
        DecorateCallerAuthorization(services);

        services.AddScoped<ApiTokenService>()
            .AddScoped<GrantHandler>()
            .AddScoped<CsrSigningHandler>()
            .AddSingleton<GrantLedger>()
            .AddSingleton<SigningCredentials>()
            .AddSingleton<IssuanceWriter>()
            .AddHostedService(sp => sp.GetRequiredService<IssuanceWriter>())
            .AddHostedService<SigningKeySweeper>()
            .AddSingleton<ApiTokenCache>()
            .AddSingleton<TokenUseRecorder>()
            .AddHostedService(sp => sp.GetRequiredService<TokenUseRecorder>())
            .AddApprovalHandler<IssuanceGrantPayload, IssuanceGrantApproval>()
            .AddApiDocumentation();
        return services;
    }

    public static WebApplication MapAutomationEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // API answers carry problem bodies; the portal's "page not found" re-execution is for browsers.
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(ApiEndpoints.Prefix, StringComparison.Ordinal) && context.Features.Get<IStatusCodePagesFeature>() is { } pages)
            {
                pages.Enabled = false;
            }

            return next(context);
        });
        app.MapAutomationApi();
        app.MapApiDocumentation();
        return app;
    }

    /// <summary>Replaces the registered <see cref="ICallerAuthorization"/> with <see cref="TokenScopedAuthorization"/> around it.</summary>
    private static void DecorateCallerAuthorization(IServiceCollection services)
    {
        var inner = services.LastOrDefault(d => d.ServiceType == typeof(ICallerAuthorization))
            ?? throw new InvalidOperationException("Register the caller authorization (AddSetups) before AddAutomation.");
        services.Remove(inner);
        services.AddSingleton<ICallerAuthorization>(sp => new TokenScopedAuthorization(inner switch
        {
            { ImplementationInstance: ICallerAuthorization instance } => instance,
            { ImplementationFactory: { } factory } => (ICallerAuthorization)factory(sp),
            { ImplementationType: { } type } => (ICallerAuthorization)ActivatorUtilities.CreateInstance(sp, type),
            _ => throw new InvalidOperationException("Unsupported caller authorization registration."),
        }));
    }
}
