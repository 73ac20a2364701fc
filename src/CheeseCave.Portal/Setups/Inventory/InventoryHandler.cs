using System.Security.Claims;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Inventory;

/// <summary>
/// The certificate inventory: every CA and device certificate of every setup, searched, filtered, sorted and paged in
/// the database, with where each device on the page is now (DPS, live). Viewer and up, re-checked in the database on
/// every call; the page, the CSV export and the automation API all come through here.
/// </summary>
public sealed class InventoryHandler(SetupPipeline pipeline, DpsPlacements placements)
{
    /// <summary>One page of the inventory, or a refusal (<see cref="PortalError.Denied"/>) for callers below Viewer.</summary>
    public async Task<PortalResult<InventoryPage>> QueryAsync(ClaimsPrincipal caller, InventoryQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<InventoryPage>(PortalError.NotAllowed("see the certificate inventory") with { WhatToDo = "Ask an administrator for the Viewer role." });
        }

        if (InventoryFilterProblem(query.Filter) is { } problem)
        {
            return PortalResult.Fail<InventoryPage>(problem);
        }

        query = query with { Skip = Math.Max(0, query.Skip), Take = Math.Clamp(query.Take, 1, InventoryQuery.MaxTake) };
        List<InventoryRow> items;
        int total;
        await using (var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            var (page, count) = await InventoryQueries.PageAsync(db, query, pipeline.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            items = [.. page];
            total = count;
        }

        var problems = query.IncludeDps ? await placements.FillAsync(caller, items, cancellationToken).ConfigureAwait(false) : [];
        return PortalResult.Ok(new InventoryPage(items, total, problems));
    }

    /// <summary>The caller as an actor when they may export the inventory now; otherwise null, and the refusal is audited.</summary>
    public async Task<Actor?> AuthorizeExportAsync(ClaimsPrincipal caller, CancellationToken cancellationToken = default)
    {
        var actor = await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await pipeline.Audit.WriteAsync(Actor.From(caller), AuditActions.CertificatesExported, "certificate inventory", AuditOutcomes.Denied, "Viewer role required", cancellationToken).ConfigureAwait(false);
        }

        return actor;
    }

    /// <summary>Every match, CAs first, for the export (after <see cref="AuthorizeExportAsync"/>).</summary>
    internal async IAsyncEnumerable<InventoryRow> StreamAsync(InventoryFilter filter, InventorySort sort, bool descending,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var row in InventoryQueries.StreamAsync(db, filter, sort, descending, pipeline.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            yield return row;
        }
    }

    internal static PortalError? InventoryFilterProblem(InventoryFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return filter.ExpiringWithinDays is { } days && (days < 1 || days > InventoryFilter.MaxExpiringWithinDays)
            ? new PortalError($"\"Expiring within\" must be between 1 and {InventoryFilter.MaxExpiringWithinDays} days; it was {days}.", "Enter a number of days such as 30 or 90, or clear the field.")
            : filter.Text is { Length: > 200 }
                ? new PortalError("The search text is longer than 200 characters.", "Search for part of a registration id, subject, thumbprint or serial number.")
                : null;
    }
}
