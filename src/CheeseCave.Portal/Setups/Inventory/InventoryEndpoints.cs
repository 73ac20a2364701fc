using System.Globalization;
using System.Text;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;

namespace CheeseCave.Portal.Setups.Inventory;

/// <summary>
/// <c>GET /certificates/export.csv</c> with the page's filters as query parameters (q, setup, kind, status,
/// expiringWithin, sort, desc): Viewer and up (the policy, then the handler again in the database), streamed, audited
/// however it ends.
/// </summary>
public static class InventoryEndpoints
{
    public const string ExportPath = "/certificates/export.csv";

    private const int FlushEvery = 200;

    public static IEndpointRouteBuilder MapInventoryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(ExportPath, ExportAsync).RequireAuthorization(PortalPolicies.RequireViewer);
        return endpoints;
    }

    private static async Task ExportAsync(HttpContext context, InventoryHandler inventory, AuditLog audit, TimeProvider time)
    {
        var cancellationToken = context.RequestAborted;
        var (query, problem) = ParseQuery(context.Request.Query);
        if (problem is not null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(problem, cancellationToken).ConfigureAwait(false);
            return;
        }

        var actor = await inventory.AuthorizeExportAsync(context.User, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await Results.Forbid().ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        var fileName = $"cheesecave-certificates-{time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.csv";
        context.Response.ContentType = "text/csv; charset=utf-8; header=present";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        context.Response.Headers.CacheControl = "no-store";

        var rows = 0;
        var completed = false;
        try
        {
            // With a byte order mark, so spreadsheets read accented names and subjects correctly.
            await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), bufferSize: 16 * 1024, leaveOpen: true);
            await writer.WriteAsync(InventoryCsv.Line(InventoryCsv.Header)).ConfigureAwait(false);
            await foreach (var row in inventory.StreamAsync(query.Filter, query.Sort, query.Descending, cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteAsync(InventoryCsv.Line(row)).ConfigureAwait(false);
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
            var detail = $"{rows} row(s) of {query.Filter.Describe()}{(completed ? "" : ", stopped early")}";
            await audit.WriteAsync(actor, AuditActions.CertificatesExported, "certificate inventory", completed ? AuditOutcomes.Succeeded : AuditOutcomes.Failed,
                detail.Length > 500 ? detail[..500] : detail, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>The export's query parameters as a query, or what is wrong with them in one sentence.</summary>
    public static (InventoryQuery Query, string? Problem) ParseQuery(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        string? Get(string name) => query.TryGetValue(name, out var values) && !string.IsNullOrWhiteSpace(values.ToString()) ? values.ToString().Trim() : null;
        var none = new InventoryQuery(InventoryFilter.None);

        int? setup = null;
        if (Get("setup") is { } setupText)
        {
            if (!int.TryParse(setupText, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                return (none, "'setup' is a setup's number, e.g. setup=3.");
            }

            setup = id;
        }

        InventoryKind? kind = null;
        if (Get("kind") is { } kindText)
        {
            if (!Enum.TryParse<InventoryKind>(kindText, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(kindText, out _))
            {
                return (none, "'kind' is ca or device.");
            }

            kind = parsed;
        }

        CertificateStatus? status = null;
        if (Get("status") is { } statusText)
        {
            if (!Enum.TryParse<CertificateStatus>(statusText, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(statusText, out _))
            {
                return (none, "'status' is one of: active, expiring, expired, revoked, superseded.");
            }

            status = parsed;
        }

        int? within = null;
        if (Get("expiringWithin") is { } withinText)
        {
            if (!int.TryParse(withinText, NumberStyles.None, CultureInfo.InvariantCulture, out var days) || days < 1 || days > InventoryFilter.MaxExpiringWithinDays)
            {
                return (none, $"'expiringWithin' is a number of days from 1 to {InventoryFilter.MaxExpiringWithinDays}, e.g. expiringWithin=30.");
            }

            within = days;
        }

        var sort = InventorySort.NotAfter;
        if (Get("sort") is { } sortText && (!Enum.TryParse(sortText, ignoreCase: true, out sort) || !Enum.IsDefined(sort) || int.TryParse(sortText, out _)))
        {
            return (none, "'sort' is one of: notafter, name, setup, issued, status, serial.");
        }

        var text = Get("q");
        if (text is { Length: > 200 })
        {
            return (none, "'q' is longer than 200 characters: search for part of a registration id, subject, thumbprint or serial number.");
        }

        var filter = new InventoryFilter { Text = text, SetupId = setup, Kind = kind, Status = status, ExpiringWithinDays = within };
        return (new InventoryQuery(filter, Sort: sort, Descending: Get("desc") is "1" or "true", IncludeDps: false), null);
    }

    /// <summary>The export address for what the page shows (relative, like the page's other links).</summary>
    public static string ExportUrl(InventoryFilter filter, InventorySort sort = InventorySort.NotAfter, bool descending = false)
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
        Add("setup", filter.SetupId?.ToString(CultureInfo.InvariantCulture));
        Add("kind", filter.Kind?.ToString().ToLowerInvariant());
        Add("status", filter.Status?.ToString().ToLowerInvariant());
        Add("expiringWithin", filter.ExpiringWithinDays?.ToString(CultureInfo.InvariantCulture));
        if (sort != InventorySort.NotAfter)
        {
            Add("sort", sort.ToString().ToLowerInvariant());
        }

        if (descending)
        {
            Add("desc", "1");
        }

        return ExportPath.TrimStart('/') + (query.Count == 0 ? "" : "?" + string.Join("&", query));
    }
}
