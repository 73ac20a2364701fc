using System.Security.Claims;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>A setup's rollover as stored: where it stands, both CA generations, the devices still to re-issue, and whether a step was cut off.</summary>
public sealed class RolloverReader(SetupPipeline pipeline, RolloverRuns runs, Cluster.ClusterMembership membership)
{
    public async Task<PortalResult<RolloverOverview>> GetRolloverAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<RolloverOverview>(PortalError.NotAllowed("read setups"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().Include(s => s.Certificates).FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return PortalResult.Fail<RolloverOverview>(PortalError.NotFound);
        }

        var rollovers = await db.CaRollovers.AsNoTracking().Where(r => r.SetupId == setupId).ToListAsync(cancellationToken).ConfigureAwait(false);
        var open = rollovers.FirstOrDefault(r => r.FinishedAt is null);
        var last = rollovers.Where(r => r.FinishedAt is not null).OrderByDescending(r => r.FinishedAt).FirstOrDefault();
        var root = SetupCertificates.RootOf(setup);
        string? whyNot = open is not null ? "A rollover is under way."
            : root is not { IsVerified: true } || setup.EnrollmentGroupId is null ? "The setup needs a verified CA trusted by an enrollment group first (steps 5 to 8)."
            : null;
        // A step another live instance runs is running, not interrupted (several instances on one database).
        var elsewhere = open?.RunningInstance is { } runner && (await membership.AliveAsync(cancellationToken).ConfigureAwait(false)).Contains(runner, StringComparer.Ordinal)
            && !runs.IsRunning(setup.Id);
        var openView = open is null ? null : View(setup, open, elsewhere, (await RolloverReissue.PendingAsync(db, setupId, open, cancellationToken).ConfigureAwait(false)).Count)
            with { LostBatches = await LostAsync(db, setupId, open.Id, cancellationToken).ConfigureAwait(false) };
        return PortalResult.Ok(new RolloverOverview(setup.Id, setup.Name, whyNot is null, whyNot, openView, last is null ? null : View(setup, last, false, 0)));
    }

    private RolloverView View(DpsSetup setup, CaRollover rollover, bool runningElsewhere, int pendingDevices)
    {
        var runningHere = runs.IsRunning(setup.Id) || runningElsewhere;
        return new RolloverView(rollover.Id, rollover.Stage, rollover.GroupMode, rollover.StartedBy, rollover.StartedAt,
            Generation(setup, rollover.OldRootId), Generation(setup, rollover.NewRootId), rollover.OldGroupId, rollover.NewGroupId,
            rollover.ReissuedCount, pendingDevices, RolloverRules.Interrupted(rollover, runningHere), runningHere && rollover.RunningStep is not null,
            rollover.FinishedAt, rollover.FinishedBy)
        {
            CancelledAt = rollover.CancelledAt,
            CancelledBy = rollover.CancelledBy,
        };
    }

    /// <summary>The rollover's batches whose keys were lost and that were not re-issued again.</summary>
    internal static async Task<IReadOnlyList<LostKeysBatch>> LostAsync(PortalDbContext db, int setupId, int rolloverId, CancellationToken cancellationToken)
    {
        var lost = await db.RolloverBatches.AsNoTracking().Where(b => b.RolloverId == rolloverId && b.KeysLostAt != null && b.ReplacedByBatchId == null)
            .OrderBy(b => b.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var views = new List<LostKeysBatch>(lost.Count);
        foreach (var batch in lost)
        {
            var keyless = (await RolloverReissue.KeylessAsync(db, setupId, batch.BatchId, cancellationToken).ConfigureAwait(false)).Count;
            views.Add(new LostKeysBatch(batch.BatchId, batch.DeviceCount, batch.KeysLostAt!.Value, batch.KeysKeptUntil is null, keyless));
        }

        return views;
    }

    private static RolloverCaView Generation(DpsSetup setup, int rootId)
    {
        var root = setup.Certificates.First(c => c.Id == rootId);
        var issuer = setup.Certificates
            .Where(c => c.Kind == SetupCertificateKind.Intermediate && string.Equals(c.Issuer, root.Subject, StringComparison.Ordinal))
            .OrderByDescending(c => c.CreatedAt).FirstOrDefault();
        var (_, signer) = RolloverRules.Generation(setup.Certificates, rootId);
        return new RolloverCaView(root.Id, root.Subject, root.ThumbprintSha1, root.DpsCertificateName, root.IsVerified, issuer?.Subject, root.NotAfter, root.RetiredAt,
            signer is not null, root.KeyId is not null, root.IsImported);
    }
}
