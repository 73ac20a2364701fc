using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.ProofOfPossession;

/// <summary>One-click proof of possession as a request; pinned to the root CA the requester saw.</summary>
[ApprovalPayloadKind("prove-ca")]
public sealed record ProveCaPayload(string ThumbprintSha1) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.ProveCa;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        var dps = SetupCertificates.DpsFact(setup);
        var root = SetupCertificates.RootOf(setup);
        if (root?.DpsCertificateName is null || dps is null)
        {
            return SetupRequestPlan.Refuse("The CA is not uploaded to the DPS yet.", "Upload it in step 6 first.");
        }

        if (root.IsVerified)
        {
            return SetupRequestPlan.Refuse("The CA is already verified.", "Nothing to do: go on to step 8.");
        }

        if (root.KeyId is null)
        {
            return SetupRequestPlan.Refuse("The portal does not hold this CA's private key.", "Sign the verification certificate where the key is kept.");
        }

        SetupCertificates.AddFacts(facts, root);
        facts.Add(new("Target DPS", dps));
        facts.Add(new("Name in the DPS", root.DpsCertificateName));
        facts.Add(new("What happens", "The portal signs DPS's verification code with this CA's key and submits it: DPS then trusts every device certificate chaining up to this CA"));
        return SetupRequestPlan.Ask(new ProveCaPayload(root.ThumbprintSha1), $"Verify root CA {SetupCertificates.ShortName(root.Subject)} on DPS {setup.DpsName} (proof of possession)", facts);
    }
}

/// <summary>Manual proof of possession: a verification certificate signed elsewhere, for the code it was made for.</summary>
/// <param name="ThumbprintSha1">The root CA the certificate was checked against.</param>
/// <param name="VerificationPem">The user's verification certificate (public PEM).</param>
/// <param name="Code">The DPS verification code it carries; applying refuses if DPS has issued a newer one since.</param>
[ApprovalPayloadKind("prove-ca-manual")]
public sealed record ManualProofPayload(string ThumbprintSha1, string VerificationPem, string Code) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.ProveCa;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        var dps = SetupCertificates.DpsFact(setup);
        var root = SetupCertificates.RootOf(setup);
        if (root?.DpsCertificateName is null || dps is null)
        {
            return SetupRequestPlan.Refuse("The CA is not uploaded to the DPS yet.", "Upload it in step 6 first.");
        }

        if (root.IsVerified)
        {
            return SetupRequestPlan.Refuse("The CA is already verified.", "Nothing to do: go on to step 8.");
        }

        if (SetupCertificates.CaChanged(root, this.ThumbprintSha1) is { } changed)
        {
            return SetupRequestPlan.Refuse(changed);
        }

        using var verification = X509Certificate2.CreateFromPem(this.VerificationPem);
        SetupCertificates.AddFacts(facts, root);
        facts.Add(new("Target DPS", dps));
        facts.Add(new("Name in the DPS", root.DpsCertificateName));
        facts.Add(new("Verification code", this.Code));
        facts.Add(new("Verification certificate", $"{verification.Subject}, issued by {verification.Issuer}, valid until {verification.NotAfter.ToUniversalTime():yyyy-MM-dd}, SHA-1 {verification.Thumbprint}"));
        facts.Add(new("What happens", "The verification certificate, signed outside the portal with this CA's key, is submitted: DPS then trusts every device certificate chaining up to this CA. A newer code generated before approval makes it void"));
        return SetupRequestPlan.Ask(this, $"Verify root CA {SetupCertificates.ShortName(root.Subject)} on DPS {setup.DpsName} (proof of possession, signed by hand)", facts);
    }
}

/// <summary>Applies an approved one-click proof as the approver, through the same code path.</summary>
public sealed class ProveCaApproval(OneClickProofHandler handler) : ApprovalHandler<ProveCaPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, ProveCaPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.VerifyAsync(approver, id, payload, grant, progress, cancellationToken).ConfigureAwait(false) : null,
            ca => new($"{ca.DpsCertificateName} is verified on the DPS.", $"setups/{setupId}/verify", "Open step 7"));
}

/// <summary>Applies an approved manual proof: the verification certificate the approvers saw, if its code is still the current one.</summary>
public sealed class ManualProofApproval(ManualProofHandler handler) : ApprovalHandler<ManualProofPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, ManualProofPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.SubmitAsync(approver, id, Encoding.ASCII.GetBytes(payload.VerificationPem), payload, grant, cancellationToken).ConfigureAwait(false) : null,
            proof => new($"{proof.DpsCertificateName} is verified on the DPS (verification certificate signed outside the portal).", $"setups/{setupId}/verify", "Open step 7"));
}
