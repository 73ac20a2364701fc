using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Approvals;

/// <summary>
/// The service side of the gate: tells a use case whether its action needs approval and records the request instead
/// of applying it. Use cases call it after their own role check; <see cref="ApprovalService"/> decides and applies.
/// </summary>
public sealed class ApprovalGate(
    IDbContextFactory<PortalDbContext> contexts,
    IOptionsMonitor<ApprovalOptions> options,
    AuditLog audit,
    ApprovalEvents events,
    TimeProvider time)
{
    public bool Requires(ApprovalAction action) => options.CurrentValue.Requires(action);

    /// <summary>A pending, unexpired request of the same kind for the setup, if any (single-shot actions allow one).</summary>
    public async Task<ApprovalTicket?> FindPendingAsync(int? setupId, ApprovalAction action, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var open = await db.ApprovalRequests.AsNoTracking()
            .Where(r => r.SetupId == setupId && r.Action == action && r.Status == ApprovalStatus.Pending && r.ExpiresAt > now)
            .OrderBy(r => r.Id).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        return open is null ? null : new ApprovalTicket(open.Id, open.Action, open.Title, open.ExpiresAt);
    }

    /// <summary>Records the request (parameters and summary as they are now), audits it and tells every listening page.</summary>
    public async Task<ApprovalTicket> RecordAsync(Actor requester, int? setupId, ApprovalPayload payload, ApprovalSummary summary, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requester);
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(summary);
        var settings = options.CurrentValue;
        var now = time.GetUtcNow();
        var request = new ApprovalRequest
        {
            Action = payload.Action,
            SetupId = setupId,
            Title = summary.Title.Length > 300 ? summary.Title[..300] : summary.Title,
            FactsJson = summary.FactsJson(),
            PayloadJson = payload.ToJson(),
            RequestedById = requester.Id,
            RequestedBy = requester.Name,
            RequestedAt = now,
            ExpiresAt = now + settings.ExpiresAfter,
            RequiredApprovals = settings.RequiredApprovers,
            Status = ApprovalStatus.Pending,
        };
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            db.ApprovalRequests.Add(request);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }

        // Recorded: from here on the request exists whatever the caller does, so its audit entry must be written too
        // (a cancellation here would make the caller think nothing was recorded, and release what the request holds).
        await audit.WriteAsync(requester, ApprovalAuditActions.Requested, ApprovalService.Target(request), AuditOutcomes.Succeeded, Trim(summary.Title), CancellationToken.None).ConfigureAwait(false);
        await events.PublishAsync(new ApprovalChange(request.Id, request.Action, setupId, ApprovalStatus.Pending)).ConfigureAwait(false);
        return new ApprovalTicket(request.Id, request.Action, request.Title, request.ExpiresAt);
    }

    internal static string Trim(string text) => text.Length > 500 ? text[..500] : text;
}
