using System.Security.Claims;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Approvals;

/// <summary>
/// Applies a request its approvers completed, through the handler its feature registered for the payload type
/// (<see cref="IApprovalHandler"/>), as the approver whose decision completed it. It always ends Applied or Failed.
/// </summary>
public sealed partial class ApprovalApplier(
    IServiceScopeFactory scopes,
    IDbContextFactory<PortalDbContext> contexts,
    ApprovalEvents events,
    AuditLog audit,
    TimeProvider time,
    ILogger<ApprovalApplier> logger)
{
    internal async Task ApplyAsync(ClaimsPrincipal caller, Actor actor, ApprovalRequest request, IReadOnlyList<string> approvers, IProgress<string>? progress)
    {
        // Applying is not cancelled with the approver's page: once claimed, the request must end Applied or Failed.
        var grant = new ApprovalGrant(request.Id, request.RequestedBy, request.RequestedById, approvers);
        ApprovalApplyResult result;
        try
        {
            // A scope of its own, not the approver's circuit's: closing the tab mid-apply must not dispose the services
            // the change is still using (the request would end Failed and half done).
            var scope = Security.CallerScopes.CreateFor(scopes, caller);
            await using (scope.ConfigureAwait(false))
            {
                var payload = ApprovalPayload.FromJson(request.PayloadJson);
                var handler = scope.ServiceProvider.GetServices<IApprovalHandler>().SingleOrDefault(h => h.PayloadType == payload.GetType());
                result = handler is null
                    ? ApprovalApplyResult.Failed($"The portal cannot apply a '{payload.Action}' request yet.")
                    : await handler.ApplyAsync(caller, request.SetupId, payload, grant, progress, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ApplyFailed(logger, ex, request.Id);
            result = ApprovalApplyResult.Failed($"Applying stopped with an unexpected error: {ex.Message} Give an administrator the time of the failure; the portal log has the details.");
        }

        var now = time.GetUtcNow();
        await using (var db = await contexts.CreateDbContextAsync(CancellationToken.None).ConfigureAwait(false))
        {
            var status = result.Error is null ? ApprovalStatus.Applied : ApprovalStatus.Failed;
            var outcome = result.Outcome?.ToJson();
            var error = result.Error is { Length: > 1000 } e ? e[..1000] : result.Error;
            await db.ApprovalRequests.Where(r => r.Id == request.Id && r.Status == ApprovalStatus.Approved)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, status).SetProperty(r => r.AppliedAt, now)
                    .SetProperty(r => r.OutcomeJson, outcome).SetProperty(r => r.Error, error), CancellationToken.None).ConfigureAwait(false);
        }

        await audit.WriteAsync(actor, ApprovalAuditActions.Applied, ApprovalService.Target(request), result.Error is null ? AuditOutcomes.Succeeded : AuditOutcomes.Failed,
            ApprovalGate.Trim(grant.AuditNote + (result.Error is null ? "" : ": " + result.Error)), CancellationToken.None).ConfigureAwait(false);
        if (result.Error is not null)
        {
            await StoredKeys.ReleaseAsync(contexts, audit, logger, request).ConfigureAwait(false);
        }

        await events.PublishAsync(new ApprovalChange(request.Id, request.Action, request.SetupId, result.Error is null ? ApprovalStatus.Applied : ApprovalStatus.Failed)).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Applying approval request {RequestId} failed unexpectedly.")]
    private static partial void ApplyFailed(ILogger logger, Exception exception, int requestId);
}
