using System.Globalization;
using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.DpsService;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>
/// Abandons an open rollover and undoes what is safe to undo, while the old CA still admits every device: the new CA
/// leaves the enrollment (the secondary reference is removed, or the extra group deleted), its DPS certificate is
/// deleted, the setup's devices come from the old CA again, re-issued devices get their old certificates back as the
/// active ones, and the new CA is marked retired. Refused once the old CA is retired, and when the enrollment no longer
/// trusts the old CA (removing the new one would then shut out every device). The DPS is read live, so a step cut off
/// half-way (a group already changed) is undone too, and cancelling again after a restart is safe.
/// </summary>
public sealed class RolloverCancel(RolloverStepRunner runner)
{
    public Task<PortalResult<RolloverStage>> CancelRolloverAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default) =>
        CancelAsync(caller, setupId, new CancelRolloverPayload(), null, cancellationToken);

    internal async Task<PortalResult<RolloverStage>> CancelAsync(ClaimsPrincipal caller, int setupId, CancelRolloverPayload request, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        const string what = "cancel the CA rollover";
        if (grant is null)
        {
            if (await runner.Pipeline.RequireChangeAsync(caller, RolloverAuditActions.Cancelled, $"setup {setupId}", cancellationToken).ConfigureAwait(false) is not { } actor)
            {
                return PortalResult.Fail<RolloverStage>(PortalError.NotAllowed(what));
            }

            var (pinned, problem) = await PinAsync(setupId, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                await runner.Pipeline.Audit.WriteAsync(actor, RolloverAuditActions.Cancelled, $"setup {setupId}", AuditOutcomes.Failed, SetupPipeline.Trim(problem.Message), cancellationToken).ConfigureAwait(false);
                return PortalResult.Fail<RolloverStage>(problem);
            }

            request = pinned!;
        }

        var spec = new RolloverRunSpec(request, request.RolloverId, RolloverAuditActions.Cancelled, what, $"rollover #{request.RolloverId} cancelled at {request.Stage}",
            RolloverRules.CancelMark, grant is null ? null : request.NewRootSha1,
            (_, rollover) => Task.FromResult(RolloverRules.CheckCancel(rollover)),
            RolloverStepRunner.Settle);
        return await runner.RunMarkedAsync(caller, setupId, spec, grant, UndoAsync, cancellationToken).ConfigureAwait(false);

        async Task<PortalResult<RolloverStage>> UndoAsync(RolloverContext context)
        {
            var (rollover, setup, db) = (context.Rollover, context.Setup, context.Db);
            if (context.NewRoot.DpsCertificateName is { } newName)
            {
                if (await LeaveEnrollmentAsync(context, newName, cancellationToken).ConfigureAwait(false) is { } refused)
                {
                    return PortalResult.Fail<RolloverStage>(refused);
                }

                // Gone already (never uploaded under this name, or a retry) is fine: the result is the same.
                await context.Arm.DeleteCertificateAsync(context.ResourceGroup, context.DpsName, newName, cancellationToken).ConfigureAwait(false);
            }

            var now = runner.Pipeline.Time.GetUtcNow();
            var by = context.Grant?.RequestedBy ?? Actor.From(context.Caller).Name;
            setup.RootCertificateId = rollover.OldRootId;
            var newGeneration = RolloverRules.Members(context.Cas, context.NewRoot);
            foreach (var ca in newGeneration)
            {
                ca.IsVerified = false;
                ca.RetiredAt ??= now;
                ca.RetiredBy ??= by;
            }

            // The old certificates become the active ones again; their successors (whose CA is leaving) are superseded by them.
            var subjects = newGeneration.Select(c => c.Subject).ToHashSet(StringComparer.Ordinal);
            var devices = await db.SetupDevices.Where(d => d.SetupId == setup.Id).ToDictionaryAsync(d => d.Id, cancellationToken).ConfigureAwait(false);
            foreach (var successor in devices.Values.Where(d => d.RenewsDeviceId is not null && d.SupersededByDeviceId is null && d.RevokedAt is null && subjects.Contains(d.Issuer)).ToList())
            {
                // Back along the chain (a batch re-issued again after its keys were lost) to the first new-generation certificate.
                var first = successor;
                while (first.RenewsDeviceId is { } previous && devices.TryGetValue(previous, out var earlier) && subjects.Contains(earlier.Issuer))
                {
                    first = earlier;
                }

                if (first.RenewsDeviceId is { } oldId && devices.TryGetValue(oldId, out var old) && old.SupersededByDeviceId == first.Id && old.RevokedAt is null)
                {
                    old.SupersededByDeviceId = null;
                    old.SupersededAt = null;
                    successor.SupersededByDeviceId = old.Id;
                    successor.SupersededAt = now;
                }
            }

            rollover.FinishedAt = now;
            rollover.FinishedBy = by;
            rollover.CancelledAt = now;
            rollover.CancelledBy = by;
            return PortalResult.Ok(rollover.Stage);
        }
    }

    /// <summary>The new CA out of the enrollment, checking first that the old CA still admits the devices; or why not.</summary>
    private async Task<PortalError?> LeaveEnrollmentAsync(RolloverContext context, string newName, CancellationToken cancellationToken)
    {
        var (rollover, oldName) = (context.Rollover, context.OldRoot.DpsCertificateName);
        using var service = await runner.Pipeline.DpsServiceAsync(context.Caller, context.Arm, context.ResourceGroup, context.DpsName, cancellationToken).ConfigureAwait(false);
        var old = await service.GetEnrollmentGroupAsync(rollover.OldGroupId, cancellationToken).ConfigureAwait(false);
        var references = old?.Attestation.X509?.CaReferences;
        if (oldName is null || references is null || (references.Primary != oldName && references.Secondary != oldName))
        {
            return new PortalError($"The enrollment group '{rollover.OldGroupId}' no longer trusts the old CA, so taking the new CA away now could shut out every device.",
                "Check the group in step 8 of the setup and let it trust the old CA again, then cancel; or go on with the rollover.");
        }

        if (references.Primary == newName || references.Secondary == newName)
        {
            await service.UpdateEnrollmentGroupAsync(rollover.OldGroupId, g => g.Attestation = AttestationMechanism.FromCaReferences(oldName), cancellationToken).ConfigureAwait(false);
        }

        if (rollover.NewGroupId is { } extra && await service.GetEnrollmentGroupAsync(extra, cancellationToken).ConfigureAwait(false) is not null)
        {
            await service.DeleteEnrollmentGroupAsync(extra, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>The request pinned to the open rollover, its CAs and what cancelling it shuts out; or why it cannot be cancelled.</summary>
    private async Task<(CancelRolloverPayload? Pinned, PortalError? Problem)> PinAsync(int setupId, CancellationToken cancellationToken)
    {
        await using var db = await runner.Pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rollover = await db.CaRollovers.AsNoTracking().FirstOrDefaultAsync(r => r.SetupId == setupId && r.FinishedAt == null, cancellationToken).ConfigureAwait(false);
        if (rollover is null)
        {
            var last = await db.CaRollovers.AsNoTracking().Where(r => r.SetupId == setupId).OrderByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
            return (null, last is not null ? RolloverRules.CheckCancel(last)
                : await db.Setups.AnyAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false) ? new PortalError("This setup has no open rollover.", "Nothing to cancel.")
                : PortalError.NotFound);
        }

        if (RolloverRules.CheckCancel(rollover) is { } problem)
        {
            return (null, problem);
        }

        var cas = await db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == setupId).ToListAsync(cancellationToken).ConfigureAwait(false);
        var newRoot = cas.First(c => c.Id == rollover.NewRootId);
        var subjects = RolloverRules.Members(cas, newRoot).Select(c => c.Subject).ToList();
        var shutOut = await db.SetupDevices.CountAsync(d => d.SetupId == setupId && d.SupersededByDeviceId == null && d.RevokedAt == null && subjects.Contains(d.Issuer) && d.RenewsDeviceId == null, cancellationToken).ConfigureAwait(false);
        return (new CancelRolloverPayload(rollover.Id, newRoot.ThumbprintSha1, cas.First(c => c.Id == rollover.OldRootId).ThumbprintSha1, rollover.Stage, shutOut), null);
    }
}

/// <summary>A request to cancel an open rollover, pinned to it and to its new CA; gated whenever any step of it is.</summary>
/// <param name="DevicesShutOut">Devices issued by the new CA during the overlap (not re-issues): they are refused once it leaves.</param>
[ApprovalPayloadKind("rollover-cancel")]
public sealed record CancelRolloverPayload(int RolloverId = 0, string NewRootSha1 = "", string OldRootSha1 = "", RolloverStage Stage = RolloverStage.CaCreated, int DevicesShutOut = 0) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.RetireCa;

    // Undoing touches what the steps touched: requiring approval for any of them gates the cancellation.
    public override IReadOnlyList<ApprovalAction> Actions => [ApprovalAction.RetireCa, ApprovalAction.EnrollmentGroup, ApprovalAction.UploadCa, ApprovalAction.CreateCa];

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        var newRoot = setup.Certificates.FirstOrDefault(c => string.Equals(c.ThumbprintSha1, this.NewRootSha1, StringComparison.OrdinalIgnoreCase));
        var oldRoot = setup.Certificates.FirstOrDefault(c => string.Equals(c.ThumbprintSha1, this.OldRootSha1, StringComparison.OrdinalIgnoreCase));
        if (newRoot is null || oldRoot is null)
        {
            return SetupRequestPlan.Refuse("This setup has no open rollover.", "Nothing to cancel.");
        }

        facts.Add(new("Rollover", $"#{this.RolloverId.ToString(CultureInfo.InvariantCulture)}: {SetupCertificates.ShortName(oldRoot.Subject)} → {SetupCertificates.ShortName(newRoot.Subject)}, at \"{this.Stage}\""));
        facts.Add(new("What happens", "The new CA leaves the enrollment (and an extra group for it is deleted) and the DPS; the setup's devices come from the old CA again; re-issued devices get their old certificates back as the active ones; the new CA is marked retired"));
        if (this.DevicesShutOut > 0)
        {
            facts.Add(new("Devices shut out", $"{this.DevicesShutOut.ToString(CultureInfo.InvariantCulture)} device certificate(s) issued by the new CA during the overlap are refused from then on"));
        }

        return SetupRequestPlan.Ask(this, $"Cancel the CA rollover of {setup.Name}", facts);
    }
}
