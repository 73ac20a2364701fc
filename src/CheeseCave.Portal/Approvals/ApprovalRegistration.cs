using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Approvals;

/// <summary>Four eyes: registrations and the key-export download, called from ServiceRegistration.</summary>
public static class ApprovalRegistration
{
    public static IServiceCollection AddApprovals(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApprovalOptions>().Bind(configuration.GetSection(ApprovalOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApprovalOptions>, ApprovalOptionsValidator>();
        services.AddSingleton<ApprovalEvents>();
        services.AddSingleton<ApprovalHandoff>();
        services.AddSingleton<ApprovalGate>();
        services.AddScoped<IApprovalExecutor>(sp => sp.GetRequiredService<SetupWizardService>());
        services.AddScoped<ApprovalService>();
        services.AddHostedService<InterruptedApprovals>(); // registered after the database initializer, so it runs after migrations
        return services;
    }

    /// <summary>
    /// /setups/{id}/key-exports/{downloadId}/{file}.key.pem: an exported CA key (encrypted PKCS#8), once, for the user
    /// it was exported for, within its window (410 after). The service checks the role again and audits.
    /// </summary>
    public static IEndpointRouteBuilder MapApprovalEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/setups/{setupId:int}/key-exports/{downloadId:regex(^[0-9a-f]{{32}}$)}/{fileName}", async (int setupId, string downloadId, string fileName, HttpContext context, SetupWizardService wizard, CancellationToken cancellationToken) =>
        {
            var result = await wizard.DownloadKeyExportAsync(context.User, setupId, downloadId, fileName, cancellationToken).ConfigureAwait(false);
            if (result.Value is { } file)
            {
                context.Response.Headers.CacheControl = "no-store";
                return Results.File(file.Content, file.ContentType, file.FileName);
            }

            return result.Error is { Denied: true } ? Results.Forbid() : Results.StatusCode(StatusCodes.Status410Gone);
        }).RequireAuthorization(PortalPolicies.RequireOperator);
        return app;
    }
}
