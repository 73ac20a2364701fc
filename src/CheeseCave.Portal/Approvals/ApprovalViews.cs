using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Approvals;

/// <summary>Requests as pages see them, and who still counts as an approver.</summary>
internal static class ApprovalViews
{
    /// <summary>
    /// Of the given approver ids, those that are enabled local users holding Approver or Administrator now. Entra ID
    /// approvers ("entra:&lt;oid&gt;") are taken as they are: their roles live in their tokens, which the portal cannot
    /// read for someone who is not calling (see APPROVALS.md).
    /// </summary>
    public static async Task<HashSet<string>> StillApproversAsync(PortalDbContext db, IReadOnlyList<string> approverIds, CancellationToken cancellationToken)
    {
        var still = approverIds.Where(id => id.StartsWith("entra:", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        var local = approverIds.Where(id => !still.Contains(id)).ToList();
        if (local.Count == 0)
        {
            return still;
        }

        var roles = PortalRoles.AtLeast(PortalRoles.Approver);
        var allowed = await (
            from user in db.Users
            where local.Contains(user.Id) && !user.IsDisabled
            join userRole in db.UserRoles on user.Id equals userRole.UserId
            join role in db.Roles on userRole.RoleId equals role.Id
            where roles.Contains(role.Name!)
            select user.Id).Distinct().ToListAsync(cancellationToken).ConfigureAwait(false);
        still.UnionWith(allowed);
        return still;
    }

    public static async Task<Dictionary<int, string>> SetupNamesAsync(PortalDbContext db, IReadOnlyCollection<ApprovalRequest> requests, CancellationToken cancellationToken)
    {
        var ids = requests.Where(r => r.SetupId is not null).Select(r => r.SetupId!.Value).Distinct().ToList();
        return ids.Count == 0 ? [] : await db.Setups.AsNoTracking().Where(s => ids.Contains(s.Id)).ToDictionaryAsync(s => s.Id, s => s.Name, cancellationToken).ConfigureAwait(false);
    }

    public static ApprovalView View(ApprovalRequest request, Dictionary<int, string> setupNames, Actor caller, bool callerIsApprover, ApprovalHandoff handoff, DateTimeOffset now)
    {
        var status = request.Status == ApprovalStatus.Pending && request.ExpiresAt <= now ? ApprovalStatus.Expired : request.Status;
        var isRequester = request.RequestedById is not null && request.RequestedById == caller.Id;
        var decisions = request.Decisions.OrderBy(d => d.At).ThenBy(d => d.Id).Select(d => new ApprovalDecisionView(d.Approver, d.Approved, d.Comment, d.At)).ToList();
        var mayDecide = callerIsApprover && !isRequester && status == ApprovalStatus.Pending && request.Decisions.All(d => d.ApproverId != caller.Id);
        return new ApprovalView(request.Id, request.Action, request.SetupId, request.SetupId is { } id && setupNames.TryGetValue(id, out var name) ? name : null,
            request.Title, ApprovalSummary.ParseFacts(request.FactsJson), request.RequestedBy, request.RequestedById, request.RequestedAt, request.ExpiresAt,
            status, request.RequiredApprovals, decisions, request.DecidedAt, request.AppliedBy, request.AppliedAt, ApprovalOutcome.FromJson(request.OutcomeJson),
            request.Error, isRequester, mayDecide, isRequester && handoff.IsWaiting(ApprovalService.SecretKey(request.Id), caller.Id));
    }
}
