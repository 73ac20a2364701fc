using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Upload;

/// <param name="ThumbprintSha1">The root CA the requester saw; applying refuses if the setup's root is another.</param>
/// <param name="VerifiedOnUpload">DPS is told to trust the CA without proof of possession.</param>
[ApprovalPayloadKind("upload-ca")]
public sealed record UploadCaPayload(string ThumbprintSha1, bool VerifiedOnUpload = false) : SetupPayload
{
    // Marking a CA verified on upload skips proof of possession, so it needs what proof of possession needs.
    public override ApprovalAction Action => VerifiedOnUpload ? ApprovalAction.ProveCa : ApprovalAction.UploadCa;

    // It is still an upload: requiring approval for either action gates it.
    public override IReadOnlyList<ApprovalAction> Actions => VerifiedOnUpload ? [ApprovalAction.UploadCa, ApprovalAction.ProveCa] : [ApprovalAction.UploadCa];

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        var dps = SetupCertificates.DpsFact(setup);
        var root = SetupCertificates.RootOf(setup);
        if (root is null)
        {
            return SetupRequestPlan.Refuse("This setup has no CA yet.", "Generate it in step 5 first.");
        }

        if (dps is null)
        {
            return SetupRequestPlan.Refuse("This setup has no DPS yet.", "Create or pick one in step 1 first.");
        }

        SetupCertificates.AddFacts(facts, root);
        facts.Add(new("Target DPS", dps));
        facts.Add(new("Name in the DPS", root.DpsCertificateName ?? SetupCertificates.FileNameFor(root)));
        facts.Add(new("What happens", this.VerifiedOnUpload
            ? "The certificate (public part only) is uploaded and marked verified: the DPS trusts it without proof that anyone holds its key"
            : "The certificate (public part only) is uploaded unverified; proof of possession is a separate step"));
        return SetupRequestPlan.Ask(new UploadCaPayload(root.ThumbprintSha1, this.VerifiedOnUpload), $"Upload root CA {SetupCertificates.ShortName(root.Subject)} to DPS {setup.DpsName}{(this.VerifiedOnUpload ? ", marked verified" : "")}", facts);
    }
}

/// <summary>Applies an approved upload as the approver, through the same code path.</summary>
public sealed class UploadCaApproval(UploadHandler handler) : ApprovalHandler<UploadCaPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, UploadCaPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.UploadAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            ca => new($"Uploaded {ca.Subject} to the DPS as {ca.DpsCertificateName} ({(ca.IsVerified ? "verified on upload" : "unverified")}).", $"setups/{setupId}/upload", "Open step 6"));
}
