using System.Globalization;
using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Automation.Grants;

/// <summary>A grant request as approvers see it; applying it creates the grant, active from then on.</summary>
/// <param name="IssuerSha1">The CA approvers were told would sign; applying refuses if another one would.</param>
[ApprovalPayloadKind("issuance-grant")]
public sealed record IssuanceGrantPayload(string Name, string Pattern, int MaxCount, int ValidityDays, int ExpiresInDays, string? IssuerSha1 = null) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.IssuanceGrant;

    public override bool OnePendingPerSetup => false;

    public GrantRequest ToRequest() => new(Name, Pattern, MaxCount, ValidityDays, ExpiresInDays);

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        if (GrantRules.Check(ToRequest()) is { } problem)
        {
            return SetupRequestPlan.Refuse(problem);
        }

        var (_, issuer) = SetupCertificates.SigningCa(setup, setup.Certificates);
        if (issuer is null)
        {
            return SetupRequestPlan.Refuse("This setup has no CA whose key the portal holds, so nothing could be signed under a grant.", "Generate or import the CA with its key in step 5 first.");
        }

        var facts = SetupCertificates.StartFacts(setup);
        facts.Add(new("Grant", Name.Trim()));
        facts.Add(new("Registration ids", $"matching {Pattern.Trim()} (case-insensitive glob: * any run, ? one character)"));
        facts.Add(new("Maximum certificates", MaxCount.ToString("N0", CultureInfo.InvariantCulture)));
        facts.Add(new("Certificate validity", $"{ValidityDays} days (shortened to the CA's end date, {issuer.NotAfter:yyyy-MM-dd}, if that comes first)"));
        facts.Add(new("Grant lasts", $"{ExpiresInDays} days from approval"));
        facts.Add(new("Signing CA", $"{SetupCertificates.ShortName(issuer.Subject)}, SHA-1 {issuer.ThumbprintSha1}"));
        facts.Add(new("Keys", "Made on the devices; the portal only signs their CSRs (no key is ever seen)"));
        return SetupRequestPlan.Ask(this with { IssuerSha1 = issuer.ThumbprintSha1 }, $"Issuance grant \"{Name.Trim()}\" for {setup.Name}: up to {MaxCount:N0} × {Pattern.Trim()}", facts);
    }
}

/// <summary>Creates the approved grant as the approver, attributed to the requester.</summary>
public sealed class IssuanceGrantApproval(GrantHandler handler) : ApprovalHandler<IssuanceGrantPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, IssuanceGrantPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var result = setupId is { } id ? await handler.CreateAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null;
        return SetupApprovalOutcome.Of(result, created => new ApprovalOutcome(
            $"Grant #{created.Id} is active until {created.ExpiresAt.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}: up to {created.MaxCount:N0} certificates for {created.Pattern}.",
            $"grants/{created.Id}", "Open the grant"));
    }
}
