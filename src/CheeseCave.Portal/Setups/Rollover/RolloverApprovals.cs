using System.Globalization;
using System.Security.Claims;
using System.Text;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>Applies an approved rollover start as the approver, through the same code path.</summary>
public sealed class StartRolloverApproval(RolloverStartHandler handler) : ApprovalHandler<StartRolloverPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, StartRolloverPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.StartAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            _ => new($"Created the new CA {payload.RootSubject}; the rollover can go on.", $"setups/{setupId}/rollover", "Open the rollover"));
}

/// <summary>
/// Applies an approved rollover step as the approver. A re-issue's keys belong to the requester, and so does its PFX
/// password, handed to them alone, once.
/// </summary>
public sealed class RolloverStepApproval(RolloverCaSteps ca, RolloverProof proof, RolloverGroupSteps groups, RolloverReissue reissue, ApprovalHandoff handoff) : ApprovalHandler<RolloverStepPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, RolloverStepPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        if (setupId is not { } id)
        {
            return SetupApprovalOutcome.Of<bool>(null, _ => new(""));
        }

        var link = $"setups/{id}/rollover";
        if (payload.Step == RolloverStep.Reissue)
        {
            var result = await reissue.ReissueAsync(approver, id, payload, grant, progress, cancellationToken).ConfigureAwait(false);
            if (result.Value is { Count: 0 })
            {
                return ApprovalApplyResult.Applied(new("Recorded that the devices were re-issued outside the portal; the old CA can be retired.", link, "Open the rollover"));
            }

            if (result.Value is { } done)
            {
                handoff.Keep(ApprovalService.SecretKey(grant.RequestId), SetupApprovalOutcome.RequesterId(grant), Encoding.UTF8.GetBytes(done.PfxPassword));
                return ApprovalApplyResult.Applied(new(
                    $"Re-issued {done.Count} device certificate(s) under the new CA in {done.Batches.Count} batch(es). {grant.RequestedBy} can download keys and PFX files until {done.KeysAvailableUntil.ToString("HH:mm 'UTC'", CultureInfo.InvariantCulture)}.",
                    done.Batches.Count == 1 ? $"setups/{id}/batches/{done.Batches[0].BatchId}.zip" : link, done.Batches.Count == 1 ? "Download the batch (ZIP)" : "Open the rollover",
                    HasSecret: true, IsDownload: done.Batches.Count == 1));
            }

            return SetupApprovalOutcome.Of(result, _ => new(""));
        }

        var outcome = payload.Step switch
        {
            RolloverStep.Upload => await ca.UploadAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false),
            RolloverStep.Prove when payload.VerificationPem is not null => await proof.ProveManuallyAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false),
            RolloverStep.Prove => await ca.ProveAsync(approver, id, payload, grant, progress, cancellationToken).ConfigureAwait(false),
            RolloverStep.Trust => await groups.TrustAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false),
            _ => await groups.RetireAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false),
        };
        return SetupApprovalOutcome.Of(outcome, _ => new($"Done: {RolloverSteps.Title(payload.Step).ToLowerInvariant()}.", link, "Open the rollover"));
    }
}

/// <summary>Applies an approved cancellation as the approver, through the same code path.</summary>
public sealed class CancelRolloverApproval(RolloverCancel cancel) : ApprovalHandler<CancelRolloverPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, CancelRolloverPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await cancel.CancelAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            _ => new("Cancelled the rollover: the old CA is the setup's only CA again.", $"setups/{setupId}/rollover", "Open the rollover"));
}
