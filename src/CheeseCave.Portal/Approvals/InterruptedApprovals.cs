using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Cluster;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Approvals;

/// <summary>
/// A request left Approved by an instance that is no longer alive was being applied when that instance stopped (or,
/// with one instance, when the portal restarted). It is marked Failed with that reason, so it is neither stuck as
/// "applying" nor applied a second time; a key its payload stored in advance (an imported CA's) is deleted unless the
/// half-done apply already gave it to a setup CA. Runs at start-up and after every heartbeat (<see cref="InstanceHeartbeat"/>);
/// the conditional update makes two instances sweeping at once report it once.
/// </summary>
public sealed class InterruptedApprovals(IDbContextFactory<PortalDbContext> contexts, AuditLog audit, ApprovalEvents events, TimeProvider time,
    ILogger<InterruptedApprovals> logger) : IClusterSweep
{
    public const string Reason = "The portal stopped while applying this request, so it may be half done. Check the setup's step, then ask again if it is still needed.";

    public async Task SweepAsync(IReadOnlyCollection<string> aliveInstances, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aliveInstances);
        var alive = aliveInstances.ToList();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var interrupted = await db.ApprovalRequests.AsNoTracking()
            .Where(r => r.Status == ApprovalStatus.Approved && (r.ApplyingInstance == null || !alive.Contains(r.ApplyingInstance)))
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        foreach (var request in interrupted)
        {
            var changed = await db.ApprovalRequests.Where(r => r.Id == request.Id && r.Status == ApprovalStatus.Approved && r.ApplyingInstance == request.ApplyingInstance)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, ApprovalStatus.Failed).SetProperty(r => r.AppliedAt, now).SetProperty(r => r.Error, Reason), cancellationToken)
                .ConfigureAwait(false);
            if (changed == 1)
            {
                await audit.WriteAsync(Actor.System, ApprovalAuditActions.Applied, ApprovalService.Target(request), AuditOutcomes.Failed, "interrupted by a restart", cancellationToken).ConfigureAwait(false);
                await StoredKeys.ReleaseAsync(contexts, audit, logger, request).ConfigureAwait(false);
                await events.PublishAsync(new ApprovalChange(request.Id, request.Action, request.SetupId, ApprovalStatus.Failed)).ConfigureAwait(false);
            }
        }
    }
}
