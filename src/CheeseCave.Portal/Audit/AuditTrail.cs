using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Audit;

/// <summary>What to look for in the audit log. Every field is optional; set fields are combined with AND.</summary>
public sealed record AuditFilter
{
    /// <summary>Free text, found anywhere in actor, action, target or detail (case-insensitive for ASCII).</summary>
    public string? Text { get; init; }

    /// <summary>The actor's user name, exactly (case-insensitive for ASCII).</summary>
    public string? Actor { get; init; }

    /// <summary>An action such as <c>user.disable</c>; a trailing <c>*</c> matches a prefix (<c>dps-setup.*</c>).</summary>
    public string? Action { get; init; }

    /// <summary>One of <see cref="AuditOutcomes"/>.</summary>
    public string? Outcome { get; init; }

    public string? CorrelationId { get; init; }

    /// <summary>Inclusive lower bound.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Exclusive upper bound.</summary>
    public DateTimeOffset? To { get; init; }

    public static AuditFilter None { get; } = new();

    /// <summary>A short, non-secret description for the audit entry of an export.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                parts.Add($"{name}={value.Trim()}");
            }
        }

        Add("text", Text);
        Add("actor", Actor);
        Add("action", Action);
        Add("outcome", Outcome);
        Add("correlation", CorrelationId);
        Add("from", From?.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Add("to", To?.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        return parts.Count == 0 ? "all entries" : string.Join(", ", parts);
    }
}

/// <summary>One audit entry as the audit page and the export show it.</summary>
public sealed record AuditRecord(long Id, DateTimeOffset At, string Actor, string? ActorId, string Action, string? Target, string Outcome, string? Detail, string? CorrelationId);

/// <summary>One page of matches, newest first, and how many match in all.</summary>
public sealed record AuditMatches(IReadOnlyList<AuditRecord> Items, int TotalCount);

/// <summary>
/// Reads the audit log for the audit page and the CSV export: Approvers and Administrators only (they review
/// colleagues' changes and account activity; Viewers and Operators do not see who did what). The role is re-checked in
/// the database on every call, like every other service. Reads happen in the database, a page at a time; the table is
/// never loaded whole.
/// </summary>
public sealed class AuditTrail(ICallerAuthorization authorization, IDbContextFactory<PortalDbContext> contexts, AuditLog audit)
{
    /// <summary>The lowest role that may read the audit log.</summary>
    public const string RequiredRole = PortalRoles.Approver;

    public const string RequiredPolicy = PortalPolicies.RequireApprover;

    public const int MaxPageSize = 200;

    /// <summary>Every action the portal writes, for the action filter (read from the constants, so new ones appear).</summary>
    public static IReadOnlyList<string> KnownActions { get; } =
    [
        .. new[] { typeof(AuditActions), typeof(AuditTrailActions), typeof(Approvals.ApprovalAuditActions), typeof(Setups.CaImportAuditActions) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal),
    ];

    public static IReadOnlyList<string> KnownOutcomes { get; } = [AuditOutcomes.Succeeded, AuditOutcomes.Failed, AuditOutcomes.Denied];

    /// <summary>The caller as an actor when they may read the audit log now; otherwise null and the refusal is audited.</summary>
    public async Task<Actor?> AuthorizeAsync(ClaimsPrincipal caller, string action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var actor = await authorization.RequireAsync(caller, RequiredRole, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await audit.WriteAsync(Actor.From(caller), action, "audit log", AuditOutcomes.Denied, $"{RequiredRole} role required", cancellationToken).ConfigureAwait(false);
        }

        return actor;
    }

    /// <summary>One page of matching entries, newest first; null when the caller may not read the audit log.</summary>
    public async Task<AuditMatches?> SearchAsync(ClaimsPrincipal caller, AuditFilter filter, int skip, int take, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (await AuthorizeAsync(caller, AuditTrailActions.Search, cancellationToken).ConfigureAwait(false) is null)
        {
            return null;
        }

        skip = Math.Max(0, skip);
        take = Math.Clamp(take, 1, MaxPageSize);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var query = Apply(db.AuditEntries.AsNoTracking(), filter);
        var total = await query.CountAsync(cancellationToken).ConfigureAwait(false);
        var items = await Project(query.OrderByDescending(a => a.Id).Skip(skip).Take(take)).ToListAsync(cancellationToken).ConfigureAwait(false);
        return new AuditMatches(items, total);
    }

    /// <summary>
    /// Every matching entry, newest first, one row at a time from an open reader (for the export). The caller has
    /// already been authorized with <see cref="AuthorizeAsync"/>.
    /// </summary>
    public async IAsyncEnumerable<AuditRecord> StreamAsync(AuditFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rows = Project(Apply(db.AuditEntries.AsNoTracking(), filter).OrderByDescending(a => a.Id)).AsAsyncEnumerable();
        await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return row;
        }
    }

    private static IQueryable<AuditRecord> Project(IQueryable<AuditEntry> query) =>
        query.Select(a => new AuditRecord(a.Id, a.At, a.Actor, a.ActorId, a.Action, a.Target, a.Outcome, a.Detail, a.CorrelationId));

    private static IQueryable<AuditEntry> Apply(IQueryable<AuditEntry> query, AuditFilter filter)
    {
        if (Clean(filter.Text) is { } text)
        {
            // Both sides lower-cased: SQLite's LIKE ignores ASCII case by itself, PostgreSQL's does not. The columns'
            // ToLower() becomes SQL lower() on either database, so it never runs with a .NET culture.
#pragma warning disable CA1304, CA1311
            var pattern = "%" + EscapeLike(text).ToLowerInvariant() + "%";
            query = query.Where(a => EF.Functions.Like(a.Actor.ToLower(), pattern, LikeEscape)
                || EF.Functions.Like(a.Action.ToLower(), pattern, LikeEscape)
                || (a.Target != null && EF.Functions.Like(a.Target.ToLower(), pattern, LikeEscape))
                || (a.Detail != null && EF.Functions.Like(a.Detail.ToLower(), pattern, LikeEscape)));
        }

        if (Clean(filter.Actor) is { } actor)
        {
            // LIKE without wildcards: an exact match that ignores ASCII case, as user names do.
            var exact = EscapeLike(actor).ToLowerInvariant();
            query = query.Where(a => EF.Functions.Like(a.Actor.ToLower(), exact, LikeEscape));
        }

        if (Clean(filter.Action) is { } action)
        {
            if (action.EndsWith('*'))
            {
                var prefix = EscapeLike(action.TrimEnd('*')).ToLowerInvariant() + "%";
                query = query.Where(a => EF.Functions.Like(a.Action.ToLower(), prefix, LikeEscape));
#pragma warning restore CA1304, CA1311
            }
            else
            {
                query = query.Where(a => a.Action == action);
            }
        }

        if (Clean(filter.Outcome) is { } outcome)
        {
            query = query.Where(a => a.Outcome == outcome);
        }

        if (Clean(filter.CorrelationId) is { } correlationId)
        {
            query = query.Where(a => a.CorrelationId == correlationId);
        }

        // At is stored as fixed-width UTC text, so these compare correctly in SQL (see PortalDbContext).
        if (filter.From is { } from)
        {
            query = query.Where(a => a.At >= from);
        }

        if (filter.To is { } to)
        {
            query = query.Where(a => a.At < to);
        }

        return query;
    }

    private const string LikeEscape = "\\";

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}

/// <summary>The audit trail's own actions (beside <see cref="AuditActions"/>).</summary>
public static class AuditTrailActions
{
    /// <summary>A search of the audit log; written only when refused (reading is not a change).</summary>
    public const string Search = "audit.search";

    /// <summary>A CSV export of the audit log: always written, with the filter and the number of rows.</summary>
    public const string Export = "audit.export";

    /// <summary>A request the endpoint's authorization policy refused to a signed-in user (403).</summary>
    public const string AccessDenied = "access.denied";
}
