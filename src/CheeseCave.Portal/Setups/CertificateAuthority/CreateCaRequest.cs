using System.Globalization;
using System.Security.Claims;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

/// <summary>A request to generate the setup's CA: names and preset as the requester gave them.</summary>
[ApprovalPayloadKind("create-ca")]
public sealed record CreateCaPayload(string RootSubject, string? IntermediateSubject, ProfilePreset Preset) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.CreateCa;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        if (setup.RootCertificateId is not null)
        {
            return SetupRequestPlan.Refuse("This setup already has a CA.", "Use it, or create a new setup for another CA.");
        }

        var policy = IssuancePolicy.For(this.Preset);
        var intermediate = string.IsNullOrWhiteSpace(this.IntermediateSubject) ? null : this.IntermediateSubject.Trim();
        try
        {
            facts.Add(new("Root CA subject", SubjectNames.Parse(this.RootSubject).Name));
            if (intermediate is not null)
            {
                facts.Add(new("Intermediate CA subject", SubjectNames.Parse(intermediate).Name));
            }
        }
        catch (PkiException ex)
        {
            return SetupRequestPlan.Refuse(ex.Message, "Correct the name and try again.");
        }

        facts.Add(new("Preset", this.Preset == ProfilePreset.Recommended ? "Recommended" : "certGen.sh compatible"));
        facts.Add(new("Key type", policy.KeyAlgorithm.ToDisplay()));
        facts.Add(new("Validity", $"root {SetupCertificates.Days(policy.RootValidity)}" + (intermediate is null ? "" : $", intermediate {SetupCertificates.Days(policy.IntermediateValidity)}")));
        facts.Add(new("Private keys", "Generated in the portal, stored encrypted; never shown or downloaded"));
        var title = $"Create root CA \"{this.RootSubject.Trim()}\"{(intermediate is null ? "" : " and an intermediate CA")} for {setup.Name}";
        return SetupRequestPlan.Ask(this with { RootSubject = this.RootSubject.Trim(), IntermediateSubject = intermediate }, title, facts);
    }
}

/// <summary>Applies an approved CA generation as the approver, through the same code path.</summary>
public sealed class CreateCaApproval(CaGenerationHandler handler) : ApprovalHandler<CreateCaPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, CreateCaPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.GenerateAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            ca => new($"Created the root CA {ca.Subject} (SHA-1 {ca.ThumbprintSha1}).", $"setups/{setupId}/ca", "Open step 5"));
}
