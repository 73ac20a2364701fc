using System.Diagnostics;
using System.Text;
using CheeseCave.Portal.Hosting.Telemetry;
using CheeseCave.Portal.Telemetry;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Provisioning.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CheeseCave.Portal.Tests.Hosting.Telemetry;

/// <summary>The collection runs alone: the meters and sources are process-wide, so parallel tests would add to the counts.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryTestGroup
{
    public const string Name = "Telemetry";
}

/// <summary>OpenTelemetry through the real portal and the embedded emulator: spans, their correlation with the audit, metrics, OTLP export.</summary>
[Collection(TelemetryTestGroup.Name)]
public sealed class PortalTelemetryTests
{
    [Fact]
    public async Task A_wizard_action_traces_its_arm_calls_with_the_correlation_id_the_audit_shows()
    {
        var spans = new List<Activity>();
        await using var portal = new PortalFactory();
        await using var traced = portal.WithWebHostBuilder(web => web.ConfigureTestServices(services =>
            services.AddPortalOpenTelemetry(tracing => tracing.AddInMemoryExporter(spans))));
        var op = await OperatorAsync(traced, "otel-span-op");
        await using var scope = traced.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider) { PollInterval = TimeSpan.FromMilliseconds(50) };

        var id = (await wizard.Setups.CreateAsync(op, "otelcave")).Value!.Id;
        var created = await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "otelcave-dps", "eastus");
        Assert.True(created.Succeeded, created.Error?.Message);

        var audit = await traced.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext()
            .AuditEntries.AsNoTracking().SingleAsync(a => a.Actor == "otel-span-op" && a.Action == AuditActions.SetupDpsCreated);
        Assert.False(string.IsNullOrEmpty(audit.CorrelationId));
        Activity[] ours;
        lock (spans)
        {
            ours = [.. spans.Where(s => Equals(s.GetTagItem(ProvisioningTelemetry.CorrelationTag), audit.CorrelationId))];
        }

        var action = Assert.Single(ours, s => s.Source.Name == PortalTelemetry.SourceName);
        Assert.Equal(AuditActions.SetupDpsCreated, action.GetTagItem(PortalTelemetry.ActionTag));
        var arm = ours.Where(s => s.Source.Name == ProvisioningTelemetry.SourceName && Equals(s.GetTagItem(ProvisioningTelemetry.ApiTag), "arm")).ToList();
        Assert.NotEmpty(arm);
        Assert.Contains(arm, s => Equals(s.GetTagItem("http.request.method"), "PUT") || s.DisplayName == "arm call");
        Assert.All(arm, s => Assert.Equal(audit.CorrelationId, s.TraceId.ToHexString()));
        Assert.All(arm, s => Assert.DoesNotContain("?", s.GetTagItem("url.path") as string ?? "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Issuing_devices_and_testing_a_registration_are_counted()
    {
        var metrics = new List<Metric>();
        await using var portal = new PortalFactory();
        await using var metered = portal.WithWebHostBuilder(web => web.ConfigureTestServices(services =>
            services.AddPortalOpenTelemetry(metrics: builder => builder.AddInMemoryExporter(metrics))));
        var op = await OperatorAsync(metered, "otel-metric-op");
        await using var scope = metered.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "otelmeter");

        var batch = await wizard.Devices.IssueDevicesAsync(op, id, ["otelmeter-001", "otelmeter-002", "otelmeter-003"]);
        Assert.True(batch.Succeeded, batch.Error?.Message);
        var tested = await wizard.Testing.TestRegistrationAsync(op, id, null, Provisioning.DeviceRegistration.DeviceTransport.Https);
        Assert.True(tested.Succeeded, tested.Error?.Message);

        Assert.True(metered.Services.GetRequiredService<MeterProvider>().ForceFlush());
        Assert.Equal(3, Sum(metrics, "cheesecave.certificates.issued", ("cheesecave.certificate.kind", "device")));
        Assert.Equal(1, Sum(metrics, "cheesecave.certificates.issued", ("cheesecave.certificate.kind", "root")));
        Assert.Equal(1, Sum(metrics, "cheesecave.registrations.tested", ("cheesecave.outcome", "refused"))); // no enrollment group yet
        Assert.Contains(metrics, m => m.Name == "cheesecave.approvals.pending");
    }

    [Fact]
    public async Task Spans_reach_an_otlp_http_collector_when_an_endpoint_is_configured()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        await using var portal = new PortalFactory();
        await using var exporting = portal.WithWebHostBuilder(web => web
            .UseSetting("CheeseCave:Telemetry:OtlpEndpoint", collector.Url)
            .UseSetting("CheeseCave:Telemetry:OtlpProtocol", "http/protobuf"));
        var op = await OperatorAsync(exporting, "otel-otlp-op");
        await using (var scope = exporting.Services.CreateAsyncScope())
        {
            var wizard = new SetupSlices(scope.ServiceProvider);
            var id = (await wizard.Setups.CreateAsync(op, "otlpcave")).Value!.Id;
            Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "otlpcave-dps", "eastus")).Succeeded);
        }

        Assert.True(exporting.Services.GetRequiredService<TracerProvider>().ForceFlush());
        var body = await collector.Traces.WaitAsync(TimeSpan.FromSeconds(30));
        // Protobuf keeps strings as UTF-8: the service name and a span's source name are in the payload.
        var text = Encoding.UTF8.GetString(body);
        Assert.Contains("cheesecave-portal", text, StringComparison.Ordinal);
        Assert.Contains(ProvisioningTelemetry.SourceName, text, StringComparison.Ordinal);
    }

    private static async Task<System.Security.Claims.ClaimsPrincipal> OperatorAsync(WebApplicationFactory<Program> host, string name)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<PortalUser>>();
        var user = new PortalUser { UserName = name, CreatedAt = DateTimeOffset.UtcNow };
        Assert.True((await users.CreateAsync(user, TestPasswords.Default)).Succeeded);
        Assert.True((await users.AddToRoleAsync(user, PortalRoles.Operator)).Succeeded);
        var signIn = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.SignInManager<PortalUser>>();
        return await signIn.CreateUserPrincipalAsync(user);
    }

    private static long Sum(List<Metric> metrics, string name, (string Key, string Value) tag)
    {
        long total = 0;
        foreach (var metric in metrics.Where(m => m.Name == name))
        {
            foreach (var point in metric.GetMetricPoints())
            {
                foreach (var item in point.Tags)
                {
                    if (item.Key == tag.Key && Equals(item.Value, tag.Value))
                    {
                        total += point.GetSumLong();
                    }
                }
            }
        }

        return total;
    }
}
