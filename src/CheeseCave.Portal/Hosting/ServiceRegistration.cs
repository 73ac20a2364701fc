using CheeseCave.Portal.Components;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MudBlazor.Services;

namespace CheeseCave.Portal.Hosting;

/// <summary>The portal's service registrations and request pipeline, kept out of Program.cs.</summary>
public static class ServiceRegistration
{
    public static WebApplicationBuilder AddPortalServices(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Serve package and project static web assets (MudBlazor's _content/, the top-level wwwroot/) from the
        // build output in every environment, not only Development. A no-op for a published app.
        builder.WebHost.UseStaticWebAssets();

        builder.Services.AddOptions<CheeseCaveOptions>()
            .Bind(builder.Configuration.GetSection(CheeseCaveOptions.SectionName));

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EmbeddedEmulator>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EmbeddedEmulator>());

        builder.Services.AddRazorComponents()
            .AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.Services.AddHealthChecks();

        return builder;
    }

    public static WebApplication MapPortalEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.UseMiddleware<SecurityHeadersMiddleware>();

        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
            app.UseHsts();
        }

        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);

        // The default binding is http://127.0.0.1:5080 (appsettings.json); redirect only when https is configured.
        if (ListensOnHttps(app.Configuration))
        {
            app.UseHttpsRedirection();
        }

        app.UseAntiforgery();

        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            ResponseWriter = static (context, report) =>
            {
                context.Response.ContentType = "text/plain; charset=utf-8";
                return context.Response.WriteAsync(report.Status == HealthStatus.Healthy ? "ok" : report.Status.ToString());
            },
        });

        // The emulator's CA certificate: public material that devices and SDKs must trust to reach the emulator.
        app.MapGet("/emulator/trust-bundle.pem", (EmbeddedEmulator emulator) =>
            emulator.Endpoints is { } endpoints
                ? Results.File(endpoints.TrustBundle, "application/x-pem-file", "cheesecave-emulator-ca.pem")
                : Results.NotFound());

        app.MapStaticAssets();
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode();

        return app;
    }

    private static bool ListensOnHttps(IConfiguration configuration) =>
        (configuration["urls"] ?? string.Empty).Contains("https://", StringComparison.OrdinalIgnoreCase)
        || !string.IsNullOrEmpty(configuration["https_port"])
        || !string.IsNullOrEmpty(configuration["https_ports"]);
}
