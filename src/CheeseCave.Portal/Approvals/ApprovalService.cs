using System.Security.Claims;
using System.Text;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Approvals;

/// <summary>
/// Four eyes: lists requests, and lets Approvers (Administrators count) other than the requester approve or reject
/// them. Once enough distinct approvers have approved, exactly one of them wins an atomic Pending → Approved change
/// in the database and applies the request through its feature's <see cref="IApprovalHandler"/>; it ends Applied or Failed. Every
/// decision and refusal is audited; every change is published on <see cref="ApprovalEvents"/>. Roles are re-checked in
/// the database on every call, whatever the page shows.
/// </summary>
public sealed partial class ApprovalService(
    ICallerAuthorization authorization,
    IDbContextFactory<PortalDbContext> contexts,
    ApprovalApplier applier,
    ApprovalHandoff handoff,
    ApprovalEvents events,
    AuditLog audit,
    Cluster.PortalInstance instance,
    TimeProvider time,
    ILogger<ApprovalService> logger)
{
    public const int MaxCommentLength = 1000;

    internal static string Target(ApprovalRequest request) => $"approval #{request.Id} ({request.Action}{(request.SetupId is { } s ? $", setup {s}" : "")})";

    /// <summary>Where the one-time secret of a request (PFX password, export passphrase) waits for its requester.</summary>
    public static string SecretKey(int requestId) => $"approval-{requestId}/secret";

    public async Task<PortalResult<IReadOnlyList<ApprovalView>>> ListAsync(ClaimsPrincipal caller, ApprovalFilter filter, CancellationToken cancellationToken = default)
    {
        var actor = await authorization.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<IReadOnlyList<ApprovalView>>(NotAllowed("see approval requests", PortalRoles.Viewer));
        }

        await ExpireDueAsync(cancellationToken).ConfigureAwait(false);
        var mayDecide = await authorization.RequireAsync(caller, PortalRoles.Approver, cancellationToken).ConfigureAwait(false) is not null;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        IQueryable<ApprovalRequest> query = db.ApprovalRequests.AsNoTracking().Include(r => r.Decisions);
        query = filter switch
        {
            ApprovalFilter.Pending => query.Where(r => r.Status == ApprovalStatus.Pending || r.Status == ApprovalStatus.Approved),
            ApprovalFilter.Mine => query.Where(r => r.RequestedById == actor.Id),
            _ => query,
        };
        var requests = await query.OrderByDescending(r => r.Id).Take(200).ToListAsync(cancellationToken).ConfigureAwait(false);
        var names = await ApprovalViews.SetupNamesAsync(db, requests, cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok<IReadOnlyList<ApprovalView>>([.. requests.Select(r => ApprovalViews.View(r, names, actor, mayDecide, handoff, time.GetUtcNow()))]);
    }

    /// <summary>Requests of one setup and action that are open, or were decided in the last day (for the wizard steps).</summary>
    public async Task<IReadOnlyList<ApprovalView>> ListForSetupAsync(ClaimsPrincipal caller, int setupId, ApprovalAction action, CancellationToken cancellationToken = default)
    {
        var actor = await authorization.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return [];
        }

        await ExpireDueAsync(cancellationToken).ConfigureAwait(false);
        var mayDecide = await authorization.RequireAsync(caller, PortalRoles.Approver, cancellationToken).ConfigureAwait(false) is not null;
        var since = time.GetUtcNow().AddDays(-1);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var requests = await db.ApprovalRequests.AsNoTracking().Include(r => r.Decisions)
            .Where(r => r.SetupId == setupId && r.Action == action
                && (r.Status == ApprovalStatus.Pending || r.Status == ApprovalStatus.Approved || r.RequestedAt > since))
            .OrderByDescending(r => r.Id).Take(10).ToListAsync(cancellationToken).ConfigureAwait(false);
        var names = await ApprovalViews.SetupNamesAsync(db, requests, cancellationToken).ConfigureAwait(false);
        return [.. requests.Select(r => ApprovalViews.View(r, names, actor, mayDecide, handoff, time.GetUtcNow()))];
    }

    /// <summary>Open requests, for the navigation badge: for an Approver those waiting for their decision, else their own.</summary>
    public async Task<int> CountOpenAsync(ClaimsPrincipal caller, CancellationToken cancellationToken = default)
    {
        var actor = await authorization.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return 0;
        }

        var mayDecide = await authorization.RequireAsync(caller, PortalRoles.Approver, cancellationToken).ConfigureAwait(false) is not null;
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var open = db.ApprovalRequests.Where(r => r.Status == ApprovalStatus.Pending && r.ExpiresAt > now);
        return mayDecide
            ? await open.CountAsync(r => r.RequestedById != actor.Id && !r.Decisions.Any(d => d.ApproverId == actor.Id), cancellationToken).ConfigureAwait(false)
            : await open.CountAsync(r => r.RequestedById == actor.Id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<PortalResult<ApprovalView>> GetAsync(ClaimsPrincipal caller, int requestId, CancellationToken cancellationToken = default)
    {
        var actor = await authorization.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<ApprovalView>(NotAllowed("see approval requests", PortalRoles.Viewer));
        }

        await ExpireDueAsync(cancellationToken).ConfigureAwait(false);
        var mayDecide = await authorization.RequireAsync(caller, PortalRoles.Approver, cancellationToken).ConfigureAwait(false) is not null;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var request = await db.ApprovalRequests.AsNoTracking().Include(r => r.Decisions).FirstOrDefaultAsync(r => r.Id == requestId, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return PortalResult.Fail<ApprovalView>(RequestNotFound);
        }

        var names = await ApprovalViews.SetupNamesAsync(db, [request], cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(ApprovalViews.View(request, names, actor, mayDecide, handoff, time.GetUtcNow()));
    }

    /// <summary>
    /// Approves as the caller. When this makes enough distinct approvers, the caller's call applies the request,
    /// unless another approver's call won the change to Approved first (then it is applied there, once).
    /// </summary>
    public async Task<PortalResult<ApprovalView>> ApproveAsync(ClaimsPrincipal caller, int requestId, string? comment = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var checkedCall = await DecideChecksAsync(caller, requestId, ApprovalAuditActions.Approved, comment, commentRequired: false, cancellationToken).ConfigureAwait(false);
        if (checkedCall.Error is not null)
        {
            return PortalResult.Fail<ApprovalView>(checkedCall.Error);
        }

        var (actor, request) = (checkedCall.Actor!, checkedCall.Request!);
        var now = time.GetUtcNow();
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            db.ApprovalDecisions.Add(new ApprovalDecision { RequestId = request.Id, ApproverId = actor.Id!, Approver = actor.Name, Approved = true, Comment = Clean(comment), At = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DbUpdateException)
            {
                // The unique (request, approver) index: the same person clicked twice, perhaps in two tabs.
                return PortalResult.Fail<ApprovalView>(new PortalError("You have already approved this request.", "Wait for the other approvers; the page updates by itself."));
            }
        }

        await audit.WriteAsync(actor, ApprovalAuditActions.Approved, Target(request), AuditOutcomes.Succeeded, Clean(comment) is { } c ? ApprovalGate.Trim(c) : null, cancellationToken).ConfigureAwait(false);

        List<ApprovalDecision> approvals;
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            approvals = await db.ApprovalDecisions.AsNoTracking().Where(d => d.RequestId == request.Id && d.Approved && d.ApproverId != request.RequestedById)
                .OrderBy(d => d.At).ThenBy(d => d.Id).ToListAsync(cancellationToken).ConfigureAwait(false);

            // An earlier approval counts only while its approver may still approve (not disabled, not demoted since).
            var stillApprovers = await ApprovalViews.StillApproversAsync(db, [.. approvals.Select(a => a.ApproverId).Where(id => id != actor.Id).Distinct(StringComparer.Ordinal)], cancellationToken).ConfigureAwait(false);
            approvals = [.. approvals.Where(a => a.ApproverId == actor.Id || stillApprovers.Contains(a.ApproverId))];
        }

        if (approvals.Select(a => a.ApproverId).Distinct(StringComparer.Ordinal).Count() < request.RequiredApprovals)
        {
            await events.PublishAsync(new ApprovalChange(request.Id, request.Action, request.SetupId, ApprovalStatus.Pending)).ConfigureAwait(false);
            return await GetAsync(caller, request.Id, cancellationToken).ConfigureAwait(false);
        }

        // The one atomic step that makes "applied once" true: only the call that moves the row out of Pending applies it.
        int claimed;
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            claimed = await db.ApprovalRequests
                .Where(r => r.Id == request.Id && r.Status == ApprovalStatus.Pending && r.ExpiresAt > now)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, ApprovalStatus.Approved).SetProperty(r => r.DecidedAt, now).SetProperty(r => r.AppliedBy, actor.Name)
                    .SetProperty(r => r.ApplyingInstance, instance.Id), cancellationToken)
                .ConfigureAwait(false);
        }

        if (claimed == 0)
        {
            return await GetAsync(caller, request.Id, cancellationToken).ConfigureAwait(false);
        }

        await events.PublishAsync(new ApprovalChange(request.Id, request.Action, request.SetupId, ApprovalStatus.Approved)).ConfigureAwait(false);
        await applier.ApplyAsync(caller, actor, request, [.. approvals.Select(a => a.Approver).Distinct(StringComparer.Ordinal)], progress).ConfigureAwait(false);
        return await GetAsync(caller, request.Id, CancellationToken.None).ConfigureAwait(false);
    }

    public async Task<PortalResult<ApprovalView>> RejectAsync(ClaimsPrincipal caller, int requestId, string comment, CancellationToken cancellationToken = default)
    {
        var checkedCall = await DecideChecksAsync(caller, requestId, ApprovalAuditActions.Rejected, comment, commentRequired: true, cancellationToken).ConfigureAwait(false);
        if (checkedCall.Error is not null)
        {
            return PortalResult.Fail<ApprovalView>(checkedCall.Error);
        }

        var (actor, request) = (checkedCall.Actor!, checkedCall.Request!);
        var now = time.GetUtcNow();
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            var changed = await db.ApprovalRequests.Where(r => r.Id == request.Id && r.Status == ApprovalStatus.Pending && r.ExpiresAt > now)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, ApprovalStatus.Rejected).SetProperty(r => r.DecidedAt, now), cancellationToken).ConfigureAwait(false);
            if (changed == 0)
            {
                return PortalResult.Fail<ApprovalView>(new PortalError("This request was decided by someone else a moment ago.", "Look at its status on this page."));
            }

            db.ApprovalDecisions.Add(new ApprovalDecision { RequestId = request.Id, ApproverId = actor.Id!, Approver = actor.Name, Approved = false, Comment = Clean(comment), At = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DbUpdateException ex)
            {
                // This approver approved earlier (same unique index); the rejection stands, the comment is in the audit.
                RejectedAfterApproving(logger, ex, request.Id);
            }
        }

        await audit.WriteAsync(actor, ApprovalAuditActions.Rejected, Target(request), AuditOutcomes.Succeeded, ApprovalGate.Trim(Clean(comment)!), cancellationToken).ConfigureAwait(false);
        await ReleaseStoredKeyAsync(request).ConfigureAwait(false);
        await events.PublishAsync(new ApprovalChange(request.Id, request.Action, request.SetupId, ApprovalStatus.Rejected)).ConfigureAwait(false);
        return await GetAsync(caller, request.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The requester withdraws their own pending request.</summary>
    public async Task<PortalResult<ApprovalView>> CancelAsync(ClaimsPrincipal caller, int requestId, CancellationToken cancellationToken = default)
    {
        var actor = await authorization.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await audit.WriteAsync(Actor.From(caller), ApprovalAuditActions.Cancelled, $"approval #{requestId}", AuditOutcomes.Denied, "not signed in or disabled", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<ApprovalView>(NotAllowed("cancel requests", PortalRoles.Viewer));
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var request = await db.ApprovalRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Id == requestId, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return PortalResult.Fail<ApprovalView>(RequestNotFound);
        }

        if (request.RequestedById != actor.Id)
        {
            await audit.WriteAsync(actor, ApprovalAuditActions.Cancelled, Target(request), AuditOutcomes.Denied, "not the requester", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<ApprovalView>(new PortalError("Only the person who made a request can cancel it.", "Approvers reject it instead, with a comment.", Denied: true));
        }

        var now = time.GetUtcNow();
        var changed = await db.ApprovalRequests.Where(r => r.Id == requestId && r.Status == ApprovalStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, ApprovalStatus.Cancelled).SetProperty(r => r.DecidedAt, now), cancellationToken).ConfigureAwait(false);
        if (changed == 0)
        {
            return PortalResult.Fail<ApprovalView>(new PortalError($"This request is no longer waiting ({ApprovalText.Describe(request.Status).ToLowerInvariant()}).", "Nothing to cancel; look at its status on this page."));
        }

        await audit.WriteAsync(actor, ApprovalAuditActions.Cancelled, Target(request), AuditOutcomes.Succeeded, cancellationToken: cancellationToken).ConfigureAwait(false);
        await ReleaseStoredKeyAsync(request).ConfigureAwait(false);
        await events.PublishAsync(new ApprovalChange(request.Id, request.Action, request.SetupId, ApprovalStatus.Cancelled)).ConfigureAwait(false);
        return await GetAsync(caller, requestId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The one-time secret an applied request left for its requester (PFX password, export passphrase): once, to them only.</summary>
    public async Task<PortalResult<string>> RevealSecretAsync(ClaimsPrincipal caller, int requestId, CancellationToken cancellationToken = default)
    {
        var actor = await authorization.RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false);
        var target = $"approval #{requestId}";
        if (actor is null)
        {
            await audit.WriteAsync(Actor.From(caller), ApprovalAuditActions.SecretRevealed, target, AuditOutcomes.Denied, "Operator role required", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<string>(NotAllowed("see this password", PortalRoles.Operator));
        }

        var secret = handoff.Take(SecretKey(requestId), actor.Id);
        if (secret is null)
        {
            await audit.WriteAsync(actor, ApprovalAuditActions.SecretRevealed, target, AuditOutcomes.Failed, "not waiting for this user", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<string>(new PortalError("There is no password waiting for you on this request.",
                "It is shown once, to the requester only, for 15 minutes after the request is applied (and is lost when the portal restarts). Make a new request."));
        }

        await audit.WriteAsync(actor, ApprovalAuditActions.SecretRevealed, target, AuditOutcomes.Succeeded, cancellationToken: cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(Encoding.UTF8.GetString(secret));
    }

    /// <summary>Marks pending requests past their time as Expired (system), so they are listed as such and never applied.</summary>
    public async Task ExpireDueAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var due = await db.ApprovalRequests.AsNoTracking().Where(r => r.Status == ApprovalStatus.Pending && r.ExpiresAt <= now).ToListAsync(cancellationToken).ConfigureAwait(false);
        foreach (var request in due)
        {
            var changed = await db.ApprovalRequests.Where(r => r.Id == request.Id && r.Status == ApprovalStatus.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, ApprovalStatus.Expired).SetProperty(r => r.DecidedAt, now), cancellationToken).ConfigureAwait(false);
            if (changed == 1)
            {
                await audit.WriteAsync(Actor.System, ApprovalAuditActions.Expired, Target(request), AuditOutcomes.Succeeded, $"not approved by {request.ExpiresAt:yyyy-MM-dd HH:mm} UTC", cancellationToken).ConfigureAwait(false);
                await ReleaseStoredKeyAsync(request).ConfigureAwait(false);
                await events.PublishAsync(new ApprovalChange(request.Id, request.Action, request.SetupId, ApprovalStatus.Expired)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Cleanup when a request ends without being applied (rejected, cancelled, expired, failed): a key its payload put
    /// into the protected key store in advance (an imported CA's) is deleted, unless a CA of a setup uses it. Runs to
    /// the end whatever the caller's page does, and is audited.
    /// </summary>
    private Task ReleaseStoredKeyAsync(ApprovalRequest request) => StoredKeys.ReleaseAsync(contexts, audit, logger, request);

    private async Task<(Actor? Actor, ApprovalRequest? Request, PortalError? Error)> DecideChecksAsync(
        ClaimsPrincipal caller, int requestId, string auditAction, string? comment, bool commentRequired, CancellationToken cancellationToken)
    {
        var actor = await authorization.RequireAsync(caller, PortalRoles.Approver, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await audit.WriteAsync(Actor.From(caller), auditAction, $"approval #{requestId}", AuditOutcomes.Denied, "Approver role required", cancellationToken).ConfigureAwait(false);
            return (null, null, NotAllowed("approve or reject requests", PortalRoles.Approver));
        }

        if (commentRequired && string.IsNullOrWhiteSpace(comment))
        {
            return (null, null, new PortalError("A rejection needs a comment.", "Say briefly why, so the requester knows what to change."));
        }

        if (Clean(comment) is { Length: > MaxCommentLength })
        {
            return (null, null, new PortalError($"The comment is longer than {MaxCommentLength} characters.", "Shorten it and try again."));
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var request = await db.ApprovalRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Id == requestId, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return (null, null, RequestNotFound);
        }

        if (request.RequestedById is not null && request.RequestedById == actor.Id)
        {
            await audit.WriteAsync(actor, auditAction, Target(request), AuditOutcomes.Denied, "own request", cancellationToken).ConfigureAwait(false);
            return (null, null, new PortalError("You made this request, so you cannot decide it: four eyes means another person approves.",
                "Ask another Approver. To withdraw it, cancel it.", Denied: true));
        }

        if (request.Status == ApprovalStatus.Pending && request.ExpiresAt <= time.GetUtcNow())
        {
            await ExpireDueAsync(cancellationToken).ConfigureAwait(false);
            await audit.WriteAsync(actor, auditAction, Target(request), AuditOutcomes.Failed, "expired", cancellationToken).ConfigureAwait(false);
            return (null, null, Expired(request));
        }

        if (request.Status != ApprovalStatus.Pending)
        {
            return (null, null, request.Status == ApprovalStatus.Expired
                ? Expired(request)
                : new PortalError($"This request is no longer waiting for a decision: {ApprovalText.Describe(request.Status).ToLowerInvariant()}.", "Nothing to do; its status is shown on this page."));
        }

        return (actor, request, null);
    }

    private static PortalError Expired(ApprovalRequest request) => new(
        $"This request expired on {request.ExpiresAt:yyyy-MM-dd HH:mm} UTC and can no longer be approved.",
        $"Ask {request.RequestedBy} to make it again if it is still wanted.");

    private static PortalError RequestNotFound { get; } = new("This approval request does not exist.", "Go back to the list of approvals.", Status: 404);

    private static PortalError NotAllowed(string what, string role) =>
        new($"You are not allowed to {what}.", $"This needs the {role} role; ask an administrator.", Denied: true);

    private static string? Clean(string? comment) => string.IsNullOrWhiteSpace(comment) ? null : comment.Trim();

    [LoggerMessage(Level = LogLevel.Information, Message = "Approval request {RequestId} was rejected by an approver who had approved it before.")]
    private static partial void RejectedAfterApproving(ILogger logger, Exception exception, int requestId);
}
