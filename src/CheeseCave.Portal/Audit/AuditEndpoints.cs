using System.Globalization;
using System.Text;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Components.Endpoints;

namespace CheeseCave.Portal.Audit;

/// <summary>The audit trail's services and its CSV export endpoint.</summary>
public static class AuditEndpoints
{
    public const string ExportPath = "/audit/export.csv";

    /// <summary>Rows written between flushes: small enough to stream, large enough not to flush per row.</summary>
    private const int FlushEvery = 200;

    public static IServiceCollection AddAuditTrail(this IServiceCollection services)
    {
        services.AddSingleton<AuditTrail>();

        // Requests a role policy refuses are audited too (not only refusals inside services).
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AuditingAuthorizationResultHandler>();
        return services;
    }

    public static IEndpointConventionBuilder MapAuditEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        // GET with the page's filters as query parameters: q, actor, action, outcome, correlationId, from, to (ISO 8601).
        return endpoints.MapGet(ExportPath, ExportAsync).RequireAuthorization(AuditTrail.RequiredPolicy);
    }

    private static async Task ExportAsync(HttpContext context, AuditTrail trail, AuditLog audit, TimeProvider time)
    {
        var cancellationToken = context.RequestAborted;
        var (filter, problem) = ParseFilter(context.Request.Query);
        if (problem is not null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(problem, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The policy read the cookie; this reads the database (a demoted or disabled user is refused and audited).
        var actor = await trail.AuthorizeAsync(context.User, AuditTrailActions.Export, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await Results.Forbid().ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        var now = time.GetUtcNow();
        var fileName = $"cheesecave-audit-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.csv";
        context.Response.ContentType = "text/csv; charset=utf-8; header=present";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        context.Response.Headers.CacheControl = "no-store";

        var rows = 0;
        var completed = false;
        try
        {
            // UTF-8 with a byte order mark, so spreadsheets read "→" and names with accents correctly.
            await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), bufferSize: 16 * 1024, leaveOpen: true);
            await writer.WriteAsync(AuditCsv.Line(AuditCsv.Header)).ConfigureAwait(false);
            await foreach (var record in trail.StreamAsync(filter, cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteAsync(AuditCsv.Line(record)).ConfigureAwait(false);
                if (++rows % FlushEvery == 0)
                {
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            completed = true;
        }
        finally
        {
            // The export is recorded however it ended; a client that went away mid-stream is a failed export.
            await audit.WriteAsync(actor, AuditTrailActions.Export, "audit log", completed ? AuditOutcomes.Succeeded : AuditOutcomes.Failed,
                Trim($"{rows} row(s) of {filter.Describe()}{(completed ? "" : ", stopped early")}"), CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>The export's query parameters as a filter, or a plain-words problem.</summary>
    public static (AuditFilter Filter, string? Problem) ParseFilter(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        string? Get(string name) => query.TryGetValue(name, out var values) && !string.IsNullOrWhiteSpace(values.ToString()) ? values.ToString().Trim() : null;

        DateTimeOffset? from = null, to = null;
        if (Get("from") is { } fromText)
        {
            if (!TryParseTime(fromText, out var parsed))
            {
                return (AuditFilter.None, $"'from' is not a date and time: use ISO 8601, e.g. 2026-11-30 or 2026-11-30T14:00:00Z.");
            }

            from = parsed;
        }

        if (Get("to") is { } toText)
        {
            if (!TryParseTime(toText, out var parsed))
            {
                return (AuditFilter.None, $"'to' is not a date and time: use ISO 8601, e.g. 2026-12-01 or 2026-11-30T18:00:00Z.");
            }

            to = parsed;
        }

        if (from is not null && to is not null && to <= from)
        {
            return (AuditFilter.None, "'to' must be later than 'from'.");
        }

        var outcome = Get("outcome");
        if (outcome is not null && !AuditTrail.KnownOutcomes.Contains(outcome, StringComparer.Ordinal))
        {
            return (AuditFilter.None, $"'outcome' is one of: {string.Join(", ", AuditTrail.KnownOutcomes)}.");
        }

        return (new AuditFilter
        {
            Text = Get("q"),
            Actor = Get("actor"),
            Action = Get("action"),
            Outcome = outcome,
            CorrelationId = Get("correlationId"),
            From = from,
            To = to,
        }, null);
    }

    /// <summary>The export address for a filter (what the page links to).</summary>
    public static string ExportUrl(AuditFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                query.Add(name + "=" + Uri.EscapeDataString(value.Trim()));
            }
        }

        Add("q", filter.Text);
        Add("actor", filter.Actor);
        Add("action", filter.Action);
        Add("outcome", filter.Outcome);
        Add("correlationId", filter.CorrelationId);
        Add("from", filter.From?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        Add("to", filter.To?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        return ExportPath.TrimStart('/') + (query.Count == 0 ? "" : "?" + string.Join("&", query));
    }

    private static bool TryParseTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    private static string Trim(string text) => text.Length > 500 ? text[..500] : text;
}

/// <summary>
/// Audits what the authorization policies refuse before any service runs: a signed-in user without the role (403),
/// and an anonymous call to an endpoint that needs a role (a download or export URL opened directly). Anonymous
/// visits to pages are not recorded: every first visit is one.
/// </summary>
internal sealed class AuditingAuthorizationResultHandler(AuditLog audit) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        var endpoint = context.GetEndpoint();
        var needsRole = endpoint?.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => !string.IsNullOrEmpty(a.Policy) || !string.IsNullOrEmpty(a.Roles)) == true;
        var isPage = endpoint?.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;
        if (authorizeResult.Forbidden || (authorizeResult.Challenged && needsRole && !isPage))
        {
            var policies = endpoint?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>().Distinct(StringComparer.Ordinal).ToList() ?? [];
            // The path only: query strings may carry search text; token-bearing paths are public and never refused.
            await audit.WriteAsync(Actor.From(context.User), AuditTrailActions.AccessDenied, $"{context.Request.Method} {context.Request.Path}", AuditOutcomes.Denied,
                authorizeResult.Forbidden ? $"role too low ({string.Join(", ", policies)})" : $"not signed in ({string.Join(", ", policies)})", context.RequestAborted).ConfigureAwait(false);
        }

        await _default.HandleAsync(next, context, policy, authorizeResult).ConfigureAwait(false);
    }
}
