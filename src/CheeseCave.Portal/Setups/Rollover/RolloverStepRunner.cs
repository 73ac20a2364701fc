using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Arm;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>What a rollover step works with: the setup and its open rollover (both tracked), the setup's CAs (tracked).</summary>
public sealed record RolloverContext(
    DpsSetup Setup,
    CaRollover Rollover,
    IReadOnlyList<SetupCertificate> Cas,
    ArmProvisioningClient Arm,
    PortalDbContext Db,
    ClaimsPrincipal Caller,
    ApprovalGrant? Grant)
{
    public SetupCertificate OldRoot => this.Cas.First(c => c.Id == this.Rollover.OldRootId);

    public SetupCertificate NewRoot => this.Cas.First(c => c.Id == this.Rollover.NewRootId);

    public string ResourceGroup => this.Setup.ResourceGroup!;

    public string DpsName => this.Setup.DpsName!;
}

/// <summary>What one rollover change is: its request (for the approval gate), audit names, running mark and rules.</summary>
/// <param name="ExpectedNewRootSha1">When applying an approval: the new root the approvers saw (null: no check).</param>
/// <param name="Succeeded">What the change does to the rollover row when it worked (move the stage on, close it).</param>
internal sealed record RolloverRunSpec(
    SetupPayload Request,
    int RolloverId,
    string AuditAction,
    string What,
    string Detail,
    string Mark,
    string? ExpectedNewRootSha1,
    Func<PortalDbContext, CaRollover, Task<PortalError?>> Check,
    Action<CaRollover, DateTimeOffset> Succeeded);

/// <summary>
/// Runs one step of a rollover through the setup pipeline: refuses a step asked for at the wrong time with one sentence
/// (before a request is recorded, and again when it runs), records it for approval when required, marks it running in
/// the database before it touches the DPS (so a restart mid-step is detected), moves the rollover on when it succeeds
/// and clears the mark when it fails. One step per setup at a time in this process.
/// </summary>
public sealed class RolloverStepRunner(SetupPipeline pipeline, RolloverRuns runs, Cluster.PortalInstance instance, Cluster.ClusterMembership membership)
{
    public SetupPipeline Pipeline => pipeline;

    internal async Task<PortalResult<T>> RunAsync<T>(ClaimsPrincipal caller, int setupId, RolloverStepPayload request, ApprovalGrant? grant,
        Func<RolloverContext, Task<PortalResult<T>>> step, CancellationToken cancellationToken)
    {
        var auditAction = RolloverAuditActions.For(request.Step);
        var what = RolloverSteps.Title(request.Step).ToLowerInvariant();
        if (grant is null)
        {
            // Refused at once, with why, rather than recorded for approval and failing after it.
            if (await pipeline.RequireChangeAsync(caller, auditAction, $"setup {setupId}", cancellationToken).ConfigureAwait(false) is not { } actor)
            {
                return PortalResult.Fail<T>(PortalError.NotAllowed(what));
            }

            var (pinned, problem) = await PinAsync(setupId, request, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                await pipeline.Audit.WriteAsync(actor, auditAction, $"setup {setupId}", AuditOutcomes.Failed, SetupPipeline.Trim(problem.Message), cancellationToken).ConfigureAwait(false);
                return PortalResult.Fail<T>(problem);
            }

            // The pinned request keeps what the caller brought (a verification certificate, the batch to re-issue again).
            request = pinned! with { LostBatchId = request.LostBatchId, Elsewhere = request.Elsewhere, VerificationPem = request.VerificationPem, VerificationCode = request.VerificationCode };
        }

        var spec = new RolloverRunSpec(request, request.RolloverId, auditAction, what, $"rollover #{request.RolloverId}: {request.Step}", request.Step.ToString(),
            grant is null ? null : request.NewRootSha1,
            (db, rollover) => CheckAsync(db, rollover, request, cancellationToken),
            (rollover, now) =>
            {
                if (request.LostBatchId is null)
                {
                    Advance(rollover, request.Step, now);
                }
                else
                {
                    // Re-issuing a lost batch again repairs the re-issue step; the rollover stays where it is.
                    Settle(rollover, now);
                }
            });
        return await RunMarkedAsync(caller, setupId, spec, grant, step, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The part every rollover change shares (a step, a cancellation): one per setup at a time in this process, through
    /// the pipeline, the open rollover loaded and checked again, the mark saved before anything outside the database is
    /// touched, <see cref="RolloverRunSpec.Succeeded"/> applied on success, the mark cleared on failure.
    /// </summary>
    internal async Task<PortalResult<T>> RunMarkedAsync<T>(ClaimsPrincipal caller, int setupId, RolloverRunSpec spec, ApprovalGrant? grant,
        Func<RolloverContext, Task<PortalResult<T>>> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(step);
        if (!runs.TryEnter(setupId))
        {
            return PortalResult.Fail<T>(new PortalError("Another step of this setup's rollover is running right now.", "Wait until it has finished; the page shows its progress."));
        }

        int? marked = null;
        try
        {
            var result = await pipeline.RunAsync(new SetupChange<T>(caller, setupId, spec.AuditAction, spec.What, spec.Detail, async (setup, arm, db) =>
            {
                var rollover = await db.CaRollovers.FirstOrDefaultAsync(r => r.SetupId == setup.Id && r.FinishedAt == null, cancellationToken).ConfigureAwait(false);
                if (rollover is null || (grant is not null && rollover.Id != spec.RolloverId))
                {
                    return PortalResult.Fail<T>(new PortalError("This setup has no open rollover (any more).", "Start a rollover first."));
                }

                if (rollover.RunningStep is not null && rollover.RunningInstance is { } runner && runner != instance.Id
                    && (await membership.AliveAsync(cancellationToken).ConfigureAwait(false)).Contains(runner, StringComparer.Ordinal))
                {
                    return PortalResult.Fail<T>(new PortalError("Another portal instance is running a step of this rollover right now.", "Wait for it to finish: the rollover page shows it, then try again."));
                }

                if (await spec.Check(db, rollover).ConfigureAwait(false) is { } problem)
                {
                    return PortalResult.Fail<T>(problem);
                }

                var cas = await db.SetupCertificates.Where(c => c.SetupId == setup.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
                var context = new RolloverContext(setup, rollover, cas, arm, db, caller, grant);
                if (SetupCertificates.CaChanged(context.NewRoot, spec.ExpectedNewRootSha1) is { } changed)
                {
                    return PortalResult.Fail<T>(changed);
                }

                if (setup.ResourceGroup is null || setup.DpsName is null)
                {
                    return PortalResult.Fail<T>(new PortalError("This setup has no DPS any more.", "Create or pick one in step 1 first."));
                }

                rollover.RunningStep = spec.Mark;
                rollover.RunningSince = pipeline.Time.GetUtcNow();
                rollover.RunningInstance = instance.Id;
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                marked = rollover.Id;
                var outcome = await step(context).ConfigureAwait(false);
                if (outcome.Succeeded)
                {
                    spec.Succeeded(rollover, pipeline.Time.GetUtcNow());
                }

                return outcome;
            }) { Request = spec.Request, Grant = grant }, cancellationToken).ConfigureAwait(false);
            if (marked is { } id && !result.Succeeded)
            {
                await ClearMarkAsync(id).ConfigureAwait(false);
            }

            return result;
        }
        catch (Exception) when (marked is not null)
        {
            // A failure is no interruption: only a stop of the process leaves the mark behind.
            await ClearMarkAsync(marked.Value).ConfigureAwait(false);
            throw;
        }
        finally
        {
            runs.Exit(setupId);
        }
    }

    /// <summary>The step is done: the rollover moves on and no step is marked running.</summary>
    internal static void Advance(CaRollover rollover, RolloverStep step, DateTimeOffset now)
    {
        rollover.Stage = (RolloverStage)((int)step + 1);
        Settle(rollover, now);
    }

    /// <summary>No step is marked running any more.</summary>
    internal static void Settle(CaRollover rollover, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rollover);
        rollover.RunningStep = null;
        rollover.RunningSince = null;
        rollover.RunningInstance = null;
        rollover.UpdatedAt = now;
    }

    /// <summary>The request pinned to the open rollover and its CAs, or why the step cannot be asked for now.</summary>
    private async Task<(RolloverStepPayload? Pinned, PortalError? Problem)> PinAsync(int setupId, RolloverStepPayload request, CancellationToken cancellationToken)
    {
        var step = request.Step;
        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rollover = await db.CaRollovers.AsNoTracking().FirstOrDefaultAsync(r => r.SetupId == setupId && r.FinishedAt == null, cancellationToken).ConfigureAwait(false);
        if (rollover is null)
        {
            return (null, await db.Setups.AnyAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false)
                ? new PortalError("This setup has no open rollover.", "Start a rollover first.")
                : PortalError.NotFound);
        }

        if (await CheckAsync(db, rollover, request, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            return (null, problem);
        }

        var roots = await db.SetupCertificates.AsNoTracking().Where(c => c.Id == rollover.OldRootId || c.Id == rollover.NewRootId)
            .ToDictionaryAsync(c => c.Id, c => c.ThumbprintSha1, cancellationToken).ConfigureAwait(false);
        var groups = rollover.NewGroupId is null ? rollover.OldGroupId : $"{rollover.OldGroupId} and {rollover.NewGroupId}";
        var devices = step != RolloverStep.Reissue ? 0
            : request.LostBatchId is { } lost ? (await RolloverReissue.KeylessAsync(db, setupId, lost, cancellationToken).ConfigureAwait(false)).Count
            : (await RolloverReissue.PendingAsync(db, setupId, rollover, cancellationToken).ConfigureAwait(false)).Count;
        return (new RolloverStepPayload(step, rollover.Id, roots[rollover.NewRootId], roots[rollover.OldRootId], groups, devices), null);
    }

    /// <summary>The order rules, or for a batch to re-issue again, that batch's own rule.</summary>
    private static async Task<PortalError?> CheckAsync(PortalDbContext db, CaRollover rollover, RolloverStepPayload request, CancellationToken cancellationToken)
    {
        if (request.Step == RolloverStep.Retire && RolloverRules.Check(rollover, request.Step) is null)
        {
            // Keys nobody ever got: retiring would shut those devices out for good, so they are re-issued again first.
            var lost = (await RolloverReader.LostAsync(db, rollover.SetupId, rollover.Id, cancellationToken).ConfigureAwait(false)).FirstOrDefault(b => b.NeverHandedOut && b.Keyless > 0);
            return lost is null ? null : new PortalError($"{lost.Sentence} Retiring the old CA now would shut those devices out.",
                $"Re-issue the devices of batch {lost.BatchId} again on the rollover page first.");
        }

        if (request is not { Step: RolloverStep.Reissue, LostBatchId: { } batchId })
        {
            return RolloverRules.Check(rollover, request.Step);
        }

        var batch = await db.RolloverBatches.AsNoTracking().FirstOrDefaultAsync(b => b.BatchId == batchId, cancellationToken).ConfigureAwait(false);
        return RolloverRules.CheckReissueAgain(rollover, batch);
    }

    private async Task ClearMarkAsync(int rolloverId)
    {
        // Not the caller's token: the mark must go even when the request was cancelled.
        await using var db = await pipeline.Contexts.CreateDbContextAsync(CancellationToken.None).ConfigureAwait(false);
        await db.CaRollovers.Where(r => r.Id == rolloverId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.RunningStep, (string?)null).SetProperty(r => r.RunningSince, (DateTimeOffset?)null)
                .SetProperty(r => r.RunningInstance, (string?)null), CancellationToken.None).ConfigureAwait(false);
    }
}
