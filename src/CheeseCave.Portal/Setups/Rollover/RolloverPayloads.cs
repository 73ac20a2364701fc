using System.Globalization;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>A request to start a rollover: the new CA's names and preset, and how the enrollment will trust it.</summary>
[ApprovalPayloadKind("rollover-start")]
public sealed record StartRolloverPayload(string RootSubject, string? IntermediateSubject, ProfilePreset Preset, RolloverGroupMode GroupMode, string? NewGroupId) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.CreateCa;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        if (Problem(setup) is { } problem)
        {
            return SetupRequestPlan.Refuse(problem);
        }

        var facts = SetupCertificates.StartFacts(setup);
        var policy = IssuancePolicy.For(this.Preset);
        var old = SetupCertificates.RootOf(setup)!;
        facts.Add(new("Replaces", $"root CA {old.Subject}, SHA-1 {old.ThumbprintSha1}, valid until {old.NotAfter:yyyy-MM-dd}"));
        facts.Add(new("New root CA subject", SubjectNames.Parse(this.RootSubject).Name));
        if (!string.IsNullOrWhiteSpace(this.IntermediateSubject))
        {
            facts.Add(new("New intermediate CA subject", SubjectNames.Parse(this.IntermediateSubject).Name));
        }

        facts.Add(new("Key type", policy.KeyAlgorithm.ToDisplay()));
        facts.Add(new("Validity", $"root {SetupCertificates.Days(policy.RootValidity)}"));
        facts.Add(new("Enrollment", this.GroupMode == RolloverGroupMode.SwapInGroup
            ? $"group {setup.EnrollmentGroupId} gets the new CA as its secondary CA, later as its only one"
            : $"a new group {this.NewGroupId} with the settings of {setup.EnrollmentGroupId} trusts the new CA; {setup.EnrollmentGroupId} is deleted at the end"));
        facts.Add(new("Private keys", "Generated in the portal, stored encrypted; never shown or downloaded"));
        return SetupRequestPlan.Ask(this with { RootSubject = this.RootSubject.Trim(), IntermediateSubject = string.IsNullOrWhiteSpace(this.IntermediateSubject) ? null : this.IntermediateSubject.Trim(), NewGroupId = this.NewGroupId?.Trim() },
            $"Start a CA rollover of {setup.Name} to \"{SetupCertificates.ShortName(this.RootSubject.Trim())}\"", facts);
    }

    /// <summary>Why this rollover cannot start on <paramref name="setup"/> (loaded with its certificates), or null.</summary>
    public PortalError? Problem(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var old = SetupCertificates.RootOf(setup);
        if (old is null || !old.IsVerified || setup.EnrollmentGroupId is null)
        {
            return new PortalError("This setup has no verified CA trusted by an enrollment group yet, so there is nothing to roll over.", "Finish steps 5 to 8 of the setup first.");
        }

        if (string.IsNullOrWhiteSpace(this.RootSubject))
        {
            return new PortalError("The new root CA needs a name.", "Enter a common name such as \"Contoso Cave Root CA 2027\".");
        }

        try
        {
            SubjectNames.Parse(this.RootSubject.Trim());
            if (!string.IsNullOrWhiteSpace(this.IntermediateSubject))
            {
                SubjectNames.Parse(this.IntermediateSubject.Trim());
            }
        }
        catch (PkiException ex)
        {
            return new PortalError(ex.Message, "Correct the name and try again.");
        }

        foreach (var subject in new[] { this.RootSubject, this.IntermediateSubject }.Where(s => !string.IsNullOrWhiteSpace(s)))
        {
            if (RolloverRules.NameClash(setup, subject!) is { } clash)
            {
                return new PortalError(clash, "Give the new CA a name of its own, for example with the year or a generation number.");
            }
        }

        if (this.RootSubject.Trim().Equals(this.IntermediateSubject?.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return new PortalError("The new root and intermediate CA have the same name.", "Give the intermediate CA a name of its own.");
        }

        if (this.GroupMode == RolloverGroupMode.NewGroup)
        {
            var check = EnrollmentRules.CheckGroupId(this.NewGroupId?.Trim());
            if (!check.IsValid)
            {
                return new PortalError(check.Problem!, "Correct the new enrollment group id and try again.");
            }

            if (string.Equals(this.NewGroupId!.Trim(), setup.EnrollmentGroupId, StringComparison.OrdinalIgnoreCase))
            {
                return new PortalError($"The new enrollment group cannot have the id of the existing one ({setup.EnrollmentGroupId}).", "Choose another id, or swap the CA in the existing group instead.");
            }
        }

        return null;
    }
}

/// <summary>
/// A request for one step of an open rollover, pinned to that rollover and to the CAs the requester saw; applying
/// refuses if the rollover or its new CA changed.
/// </summary>
/// <param name="LostBatchId">A re-issue of the devices of this batch again, its keys having been lost.</param>
/// <param name="Elsewhere">A re-issue done outside the portal (the new CA came without its key): the step is confirmed, nothing signed.</param>
/// <param name="VerificationPem">Proof of possession by hand: the verification certificate signed where the new CA's key is.</param>
/// <param name="VerificationCode">The DPS verification code <paramref name="VerificationPem"/> was made for.</param>
[ApprovalPayloadKind("rollover-step")]
public sealed record RolloverStepPayload(RolloverStep Step, int RolloverId = 0, string NewRootSha1 = "", string OldRootSha1 = "", string Groups = "", int DeviceCount = 0,
    string? LostBatchId = null, bool Elsewhere = false, string? VerificationPem = null, string? VerificationCode = null) : SetupPayload
{
    public override ApprovalAction Action => this.Step switch
    {
        RolloverStep.Upload => ApprovalAction.UploadCa,
        RolloverStep.Prove => ApprovalAction.ProveCa,
        RolloverStep.Trust => ApprovalAction.EnrollmentGroup,
        RolloverStep.Reissue => ApprovalAction.IssueDevices,
        _ => ApprovalAction.RetireCa,
    };

    // Retiring changes the enrollment group too: requiring approval for either action gates it.
    public override IReadOnlyList<ApprovalAction> Actions => this.Step == RolloverStep.Retire ? [ApprovalAction.RetireCa, ApprovalAction.EnrollmentGroup] : [this.Action];

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        var newRoot = setup.Certificates.FirstOrDefault(c => string.Equals(c.ThumbprintSha1, this.NewRootSha1, StringComparison.OrdinalIgnoreCase));
        var oldRoot = setup.Certificates.FirstOrDefault(c => string.Equals(c.ThumbprintSha1, this.OldRootSha1, StringComparison.OrdinalIgnoreCase));
        if (newRoot is null || oldRoot is null || SetupCertificates.DpsFact(setup) is not { } dps)
        {
            return SetupRequestPlan.Refuse("This setup has no open rollover.", "Start a rollover first.");
        }

        facts.Add(new("Rollover", $"#{this.RolloverId.ToString(CultureInfo.InvariantCulture)}: {SetupCertificates.ShortName(oldRoot.Subject)} → {SetupCertificates.ShortName(newRoot.Subject)}"));
        SetupCertificates.AddFacts(facts, this.Step == RolloverStep.Retire ? oldRoot : newRoot);
        facts.Add(new("Target DPS", dps));
        facts.Add(new("What happens", this.Step switch
        {
            RolloverStep.Upload => "The new root CA certificate (public part only) is uploaded to the DPS, unverified",
            RolloverStep.Prove when this.VerificationPem is not null => $"The verification certificate for code {this.VerificationCode}, signed where the new CA's key is kept, goes to the DPS: it then trusts certificates chaining up to the new CA",
            RolloverStep.Prove => "The portal signs the DPS's verification code with the new CA's key: the DPS then trusts certificates chaining up to it",
            RolloverStep.Reissue when this.LostBatchId is not null => $"The {this.DeviceCount.ToString(CultureInfo.InvariantCulture)} device(s) of batch {this.LostBatchId}, whose new keys were lost in a restart, get another certificate from the new CA (same registration ids, new keys); the keyless ones are marked superseded",
            RolloverStep.Reissue when this.Elsewhere => $"Confirms that the {this.DeviceCount.ToString(CultureInfo.InvariantCulture)} active device certificate(s) of the old CA were re-issued outside the portal (it does not hold the new CA's key); devices without a new certificate are refused after retirement",
            RolloverStep.Trust => $"Enrollment {this.Groups} trusts the new CA beside the old one: devices of both generations register; new devices come from the new CA",
            RolloverStep.Reissue => $"{this.DeviceCount.ToString(CultureInfo.InvariantCulture)} active device certificate(s) of the old CA get a successor from the new CA (same registration ids, new keys); the old ones are marked superseded",
            _ => $"The old CA leaves enrollment {this.Groups}, is deleted from the DPS and retired in the portal: devices that still have only its certificates are refused from then on",
        }));
        if (this.Step == RolloverStep.Reissue && !this.Elsewhere)
        {
            facts.Add(new("Keys", "Downloadable by the requester for 15 minutes after it is applied; the PFX password is shown once, to the requester"));
        }

        return SetupRequestPlan.Ask(this, $"CA rollover of {setup.Name}: {RolloverSteps.Title(this.Step).ToLowerInvariant()}", facts);
    }
}
