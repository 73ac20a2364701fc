namespace CheeseCave.Portal.Hosting.Logging;

/// <summary>
/// Floors for the framework categories that write the request path: set-up and invitation links carry their one-time
/// token in the path. These rules name the categories exactly, so they outrank an operator's broader
/// "Microsoft": "Trace". Proven by SecretFreeLogsTests (a whole journey at Trace, no secret in any log).
/// </summary>
public static class SecretSafeLogging
{
    public static ILoggingBuilder AddSecretSafeFilters(this ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);

        // None, not Warning: while any level is on, hosting opens a RequestPath scope for every request, which
        // scope-printing providers (JSON console, OTLP logs) attach to each line. Lines keep TraceId/SpanId without it.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        // Their Debug and Trace lines quote the request path.
        logging.AddFilter("Microsoft.AspNetCore.Routing", LogLevel.Information);
        logging.AddFilter("Microsoft.AspNetCore.StaticFiles", LogLevel.Information);
        logging.AddFilter("Microsoft.AspNetCore.StaticAssets", LogLevel.Information);
        logging.AddFilter("Microsoft.AspNetCore.Components.Routing", LogLevel.Information);
        return logging;
    }
}
