using System.Net.Sockets;
using System.Text.Json;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Targets;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Hosting.Health;

/// <summary>
/// Probes for load balancers and orchestrators. <c>/health/live</c> runs no check: the process answers, so do not
/// restart it. <c>/health/ready</c> checks what a request needs (the database, the Data Protection keys that sign-in
/// cookies and stored secrets depend on, and the provisioning target) and answers 503 when one is down, so traffic
/// goes elsewhere. Both are anonymous, as probes carry no credentials; they show check names and states only, never
/// an exception text (it could name paths or servers).
/// </summary>
public static class PortalHealth
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    private const string ReadyTag = "ready";

    public static IServiceCollection AddPortalHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag])
            .AddCheck<DataProtectionHealthCheck>("dataProtection", tags: [ReadyTag])
            .AddCheck<ProvisioningTargetHealthCheck>("provisioningTarget", tags: [ReadyTag]);
        services.AddHttpClient(nameof(ProvisioningTargetHealthCheck), client => client.Timeout = TimeSpan.FromSeconds(3));
        return services;
    }

    public static IEndpointRouteBuilder MapPortalHealthChecks(this IEndpointRouteBuilder app)
    {
        var live = new HealthCheckOptions { Predicate = static _ => false, ResponseWriter = WriteAsync };
        app.MapHealthChecks(LivePath, live).AllowAnonymous();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = static _ => false, ResponseWriter = WritePlainAsync }).AllowAnonymous(); // the older name, kept for existing probes
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = static check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync }).AllowAnonymous();
        return app;
    }

    private static Task WritePlainAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(report.Status == HealthStatus.Healthy ? "ok" : report.Status.ToString());
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}

/// <summary>The portal's database answers a query and has every migration applied.</summary>
internal sealed class DatabaseHealthCheck(IDbContextFactory<PortalDbContext> contexts) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken).ConfigureAwait(false)).Count();
            _ = await db.Setups.AsNoTracking().AnyAsync(cancellationToken).ConfigureAwait(false);
            return pending == 0
                ? HealthCheckResult.Healthy("reachable, schema up to date")
                : HealthCheckResult.Unhealthy($"{pending} migration(s) not applied yet");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("not reachable or not readable");
        }
    }
}

/// <summary>The Data Protection keys can protect and unprotect (sign-in cookies and stored secrets depend on them).</summary>
internal sealed class DataProtectionHealthCheck(IDataProtectionProvider provider, Security.KeyCustody.KeyCustodyStatus custody) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var protector = provider.CreateProtector("CheeseCave.Health");
            var probe = Guid.NewGuid().ToString("N");
            return Task.FromResult(protector.Unprotect(protector.Protect(probe)) != probe
                ? HealthCheckResult.Unhealthy("keys do not round-trip")
                : custody.Unprotected
                    ? HealthCheckResult.Degraded("keys usable, but the key ring is not encrypted at rest (CheeseCave:KeyRing:Certificate)")
                    : HealthCheckResult.Healthy("keys usable"));
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or InvalidOperationException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("keys not usable"));
        }
    }
}

/// <summary>
/// The built-in emulator is running and accepts connections, or Azure Resource Manager answers over the network. An
/// unreachable Azure is "degraded", not "unhealthy": every instance would fail alike, and the portal's pages that do
/// not call Azure (inventory, approvals, audit) still work, so taking instances out of rotation would help nobody.
/// </summary>
internal sealed class ProvisioningTargetHealthCheck(IOptions<CheeseCaveOptions> options, EmbeddedEmulator emulator, IHttpClientFactory http) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (options.Value.Target == ProvisioningTarget.Emulator)
        {
            if (emulator.Endpoints is not { } endpoints)
            {
                return HealthCheckResult.Unhealthy("the built-in emulator is not running");
            }

            var arm = new Uri(endpoints.ArmEndpoint);
            try
            {
                using var client = new TcpClient();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                await client.ConnectAsync(arm.Host, arm.Port, timeout.Token).ConfigureAwait(false);
                return HealthCheckResult.Healthy("built-in emulator accepting connections");
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy("the built-in emulator does not accept connections");
            }
        }

        try
        {
            // Unauthenticated and cheap: any HTTP answer proves the network path to ARM.
            using var response = await http.CreateClient(nameof(ProvisioningTargetHealthCheck))
                .GetAsync(new Uri("https://management.azure.com/metadata/endpoints?api-version=2022-09-01"), cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy("Azure Resource Manager reachable");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Degraded("Azure Resource Manager not reachable");
        }
    }
}
