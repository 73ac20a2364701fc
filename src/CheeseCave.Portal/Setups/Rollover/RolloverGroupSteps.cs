using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Provisioning.DpsService;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>
/// Rollover steps 4 and 6, the ones that change what the DPS lets in. Trust: the enrollment accepts both generations
/// (the new CA as the group's secondary CA, or a second group for it), and the setup's devices come from the new CA
/// from now on. Retire: the old CA leaves the enrollment and the DPS and is marked retired; its devices are refused.
/// </summary>
public sealed class RolloverGroupSteps(RolloverStepRunner runner)
{
    public Task<PortalResult<RolloverStage>> TrustNewCaAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default) =>
        TrustAsync(caller, setupId, new RolloverStepPayload(RolloverStep.Trust), null, cancellationToken);

    public Task<PortalResult<RolloverStage>> RetireOldCaAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default) =>
        RetireAsync(caller, setupId, new RolloverStepPayload(RolloverStep.Retire), null, cancellationToken);

    internal Task<PortalResult<RolloverStage>> TrustAsync(ClaimsPrincipal caller, int setupId, RolloverStepPayload request, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        runner.RunAsync(caller, setupId, request, grant, async context =>
        {
            var (rollover, newName) = (context.Rollover, context.NewRoot.DpsCertificateName!);
            using var service = await runner.Pipeline.DpsServiceAsync(context.Caller, context.Arm, context.ResourceGroup, context.DpsName, cancellationToken).ConfigureAwait(false);
            var old = await service.GetEnrollmentGroupAsync(rollover.OldGroupId, cancellationToken).ConfigureAwait(false);
            if (old?.Attestation.X509?.CaReferences?.Primary is not { } oldPrimary)
            {
                return PortalResult.Fail<RolloverStage>(new PortalError($"The enrollment group '{rollover.OldGroupId}' no longer exists in the DPS, or no longer trusts a DPS certificate.",
                    "Save it again in step 8 of the setup, then run this step again."));
            }

            if (rollover.GroupMode == RolloverGroupMode.SwapInGroup)
            {
                // Both generations register during the change: the old CA stays primary, the new one comes in as secondary.
                await service.UpdateEnrollmentGroupAsync(rollover.OldGroupId, g => g.Attestation = AttestationMechanism.FromCaReferences(oldPrimary, newName), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await service.CreateOrUpdateEnrollmentGroupAsync(CopyFor(old, rollover.NewGroupId!, newName), cancellationToken).ConfigureAwait(false);
            }

            // From here the setup's devices (step 9, and the re-issue) come from the new CA.
            context.Setup.RootCertificateId = rollover.NewRootId;
            return PortalResult.Ok(RolloverStage.Trusted);
        }, cancellationToken);

    internal Task<PortalResult<RolloverStage>> RetireAsync(ClaimsPrincipal caller, int setupId, RolloverStepPayload request, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        runner.RunAsync(caller, setupId, request, grant, async context =>
        {
            var (rollover, newName) = (context.Rollover, context.NewRoot.DpsCertificateName!);
            using var service = await runner.Pipeline.DpsServiceAsync(context.Caller, context.Arm, context.ResourceGroup, context.DpsName, cancellationToken).ConfigureAwait(false);
            var trusting = await service.GetEnrollmentGroupAsync(rollover.NewGroupId ?? rollover.OldGroupId, cancellationToken).ConfigureAwait(false);
            var references = trusting?.Attestation.X509?.CaReferences;
            if (references is null || (references.Primary != newName && references.Secondary != newName))
            {
                return PortalResult.Fail<RolloverStage>(new PortalError($"The enrollment group '{rollover.NewGroupId ?? rollover.OldGroupId}' no longer trusts the new CA (someone changed it), so retiring the old CA now would shut out every device.",
                    "Check the group in step 8 of the setup; let it trust the new CA again before retiring."));
            }

            if (rollover.GroupMode == RolloverGroupMode.SwapInGroup)
            {
                await service.UpdateEnrollmentGroupAsync(rollover.OldGroupId, g => g.Attestation = AttestationMechanism.FromCaReferences(newName), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await service.DeleteEnrollmentGroupAsync(rollover.OldGroupId, cancellationToken).ConfigureAwait(false);
                context.Setup.EnrollmentGroupId = rollover.NewGroupId;
            }

            var now = runner.Pipeline.Time.GetUtcNow();
            var by = context.Grant?.RequestedBy ?? Auditing.Actor.From(context.Caller).Name;
            foreach (var ca in RolloverRules.Members(context.Cas, context.OldRoot))
            {
                if (ca.DpsCertificateName is { } name)
                {
                    // Gone already (a retry after a restart) is fine: the result is the same.
                    await context.Arm.DeleteCertificateAsync(context.ResourceGroup, context.DpsName, name, cancellationToken).ConfigureAwait(false);
                }

                ca.IsVerified = false;
                ca.RetiredAt ??= now;
                ca.RetiredBy ??= by;
            }

            rollover.FinishedAt = now;
            rollover.FinishedBy = by;
            return PortalResult.Ok(RolloverStage.Retired);
        }, cancellationToken);

    /// <summary>A group for the new CA with the old group's settings (hubs, allocation, reprovisioning, initial twin, status).</summary>
    private static EnrollmentGroup CopyFor(EnrollmentGroup old, string groupId, string caName) => new()
    {
        EnrollmentGroupId = groupId,
        Attestation = AttestationMechanism.FromCaReferences(caName),
        Capabilities = old.Capabilities,
        IotHubs = old.IotHubs,
        AllocationPolicy = old.AllocationPolicy,
        ReprovisionPolicy = old.ReprovisionPolicy,
        InitialTwin = old.InitialTwin,
        ProvisioningStatus = old.ProvisioningStatus,
    };
}
