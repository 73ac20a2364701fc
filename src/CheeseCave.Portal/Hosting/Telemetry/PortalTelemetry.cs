using System.Diagnostics;
using CheeseCave.Portal.Telemetry;
using CheeseCave.Provisioning.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CheeseCave.Portal.Hosting.Telemetry;

/// <summary>
/// OpenTelemetry for the portal, off unless an OTLP endpoint is configured (<c>CheeseCave:Telemetry:OtlpEndpoint</c>
/// or the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>): without one nothing is registered, so the default start pays
/// nothing and the sources below have no listener. docs/operations.md lists the spans, metrics and tags.
/// </summary>
public static class PortalTelemetry
{
    public const string SectionName = "CheeseCave:Telemetry";

    /// <summary>The portal's own spans (<see cref="PortalActivity"/>).</summary>
    public const string SourceName = PortalActivity.SourceName;

    public const string ActionTag = PortalActivity.ActionTag;

    /// <summary>Registers the OTLP export when configured; a no-op otherwise.</summary>
    public static WebApplicationBuilder AddPortalTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var endpoint = configuration[$"{SectionName}:OtlpEndpoint"];
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            var protocol = Protocol(configuration[$"{SectionName}:OtlpProtocol"] ?? configuration["OTEL_EXPORTER_OTLP_PROTOCOL"]);
            builder.Services.AddPortalOpenTelemetry().UseOtlpExporter(protocol, new Uri(endpoint, UriKind.Absolute));
        }
        else if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddPortalOpenTelemetry().UseOtlpExporter(); // reads the OTEL_EXPORTER_OTLP_* settings itself
        }

        return builder;
    }

    /// <summary>
    /// The portal's sources, meters and instrumentation, without an exporter. The OTLP set-up above adds one; tests
    /// call this with an in-memory exporter (<paramref name="tracing"/>, <paramref name="metrics"/>).
    /// </summary>
    public static IOpenTelemetryBuilder AddPortalOpenTelemetry(this IServiceCollection services,
        Action<TracerProviderBuilder>? tracing = null, Action<MeterProviderBuilder>? metrics = null)
    {
        services.AddSingleton<PendingApprovalsGauge>();
        return services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("cheesecave-portal"))
            .WithTracing(builder =>
            {
                builder.AddSource(SourceName, ProvisioningTelemetry.SourceName)
                    .AddProcessor(new CorrelationTagProcessor())
                    .AddAspNetCoreInstrumentation(options =>
                    {
                        // Probes every few seconds would drown the traces that matter.
                        options.Filter = context => !context.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
                            && !context.Request.Path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase);
                        options.EnrichWithHttpRequest = (activity, request) => activity.SetTag("url.path", TelemetryPaths.Redact(request.Path));
                    })
                    .AddHttpClientInstrumentation(options =>
                        options.EnrichWithHttpRequestMessage = (activity, request) => activity.SetTag("url.full", TelemetryPaths.WithoutQuery(request.RequestUri)));
                tracing?.Invoke(builder);
            })
            .WithMetrics(builder =>
            {
                builder.AddMeter(PortalMetrics.MeterName)
                    .AddInstrumentation(provider => provider.GetRequiredService<PendingApprovalsGauge>())
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation();
                metrics?.Invoke(builder);
            });
    }

    private static OtlpExportProtocol Protocol(string? value) =>
        value?.Trim().ToLowerInvariant() switch
        {
            null or "" or "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" or "httpprotobuf" or "http" => OtlpExportProtocol.HttpProtobuf,
            _ => throw new InvalidOperationException(
                $"CheeseCave:Telemetry:OtlpProtocol '{value}' is not known: use 'grpc' (port 4317) or 'http/protobuf' (port 4318)."),
        };
}
