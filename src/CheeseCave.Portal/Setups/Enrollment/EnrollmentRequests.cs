using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Enrollment;

[ApprovalPayloadKind("save-enrollment-group")]
public sealed record SaveEnrollmentGroupPayload(EnrollmentGroupForm Form) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.EnrollmentGroup;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        var dps = SetupCertificates.DpsFact(setup);
        var form = this.Form;
        var id = form.GroupId?.Trim() ?? "";
        var idCheck = EnrollmentRules.CheckGroupId(id);
        if (!idCheck.IsValid)
        {
            return SetupRequestPlan.Refuse(idCheck.Problem!, "Correct the enrollment group id and try again.");
        }

        foreach (var (json, what) in new[] { (form.TagsJson, "tags"), (form.DesiredJson, "desired properties") })
        {
            if (EnrollmentRules.ParseTwinObject(json, what).Problem is { } twinProblem)
            {
                return SetupRequestPlan.Refuse(twinProblem, $"Fix the {what} JSON (or empty the field) and try again.");
            }
        }

        if (dps is null)
        {
            return SetupRequestPlan.Refuse("This setup has no DPS yet.", "Finish step 1 first.");
        }

        var change = string.Equals(setup.EnrollmentGroupId, id, StringComparison.OrdinalIgnoreCase);
        facts.Add(new("Operation", change ? "Change the existing enrollment group" : "Create an enrollment group"));
        facts.Add(new("Enrollment group", id));
        facts.Add(new("Target DPS", dps));
        var primary = setup.Certificates.FirstOrDefault(c => c.DpsCertificateName == form.PrimaryCa);
        facts.Add(new("Primary CA", primary is null ? form.PrimaryCa : $"{form.PrimaryCa}: {SetupCertificates.ShortName(primary.Subject)}, SHA-1 {primary.ThumbprintSha1}"));
        if (!string.IsNullOrWhiteSpace(form.SecondaryCa))
        {
            facts.Add(new("Secondary CA", form.SecondaryCa));
        }

        facts.Add(new("Hubs", form.Hubs.Count > 0 ? string.Join(", ", form.Hubs) : $"all hubs linked to the DPS{(setup.LinkedHubs is { } linked ? $": {linked}" : "")}"));
        facts.Add(new("Allocation", form.AllocationPolicy.ToString()));
        facts.Add(new("When a device registers again", EnrollmentRules.Title(form.Reprovision)));
        facts.Add(new("Devices may register", form.Enabled ? "Yes (enabled)" : "No (disabled)"));
        if (form.IotEdge)
        {
            facts.Add(new("IoT Edge", "Yes"));
        }

        if (!string.IsNullOrWhiteSpace(form.TagsJson))
        {
            facts.Add(new("Initial twin tags", form.TagsJson.Trim()));
        }

        if (!string.IsNullOrWhiteSpace(form.DesiredJson))
        {
            facts.Add(new("Initial desired properties", form.DesiredJson.Trim()));
        }

        var copy = EnrollmentGroupForm.CopyOf(form);
        copy.GroupId = id;
        return SetupRequestPlan.Ask(new SaveEnrollmentGroupPayload(copy), $"{(change ? "Change" : "Create")} enrollment group {id} on DPS {setup.DpsName}", facts);
    }
}

[ApprovalPayloadKind("delete-enrollment-group")]
public sealed record DeleteEnrollmentGroupPayload(string GroupId) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.EnrollmentGroup;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        var dps = SetupCertificates.DpsFact(setup);
        if (setup.EnrollmentGroupId is not { } groupId || dps is null)
        {
            return SetupRequestPlan.Refuse("This setup has no enrollment group.", "Nothing to delete.");
        }

        facts.Add(new("Enrollment group", groupId));
        facts.Add(new("Target DPS", dps));
        facts.Add(new("What happens", "The group is deleted: its devices can no longer register (devices already in a hub stay there)"));
        return SetupRequestPlan.Ask(new DeleteEnrollmentGroupPayload(groupId), $"Delete enrollment group {groupId} from DPS {setup.DpsName}", facts);
    }
}

/// <summary>Applies an approved save of the enrollment group, through the same code path.</summary>
public sealed class SaveEnrollmentGroupApproval(EnrollmentHandler handler) : ApprovalHandler<SaveEnrollmentGroupPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, SaveEnrollmentGroupPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.SaveAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            group => new($"Saved enrollment group {group.GroupId} ({(group.Enabled ? "enabled" : "disabled")}).", $"setups/{setupId}/enrollment", "Open step 8"));
}

/// <summary>Applies an approved deletion of the enrollment group the approvers saw.</summary>
public sealed class DeleteEnrollmentGroupApproval(EnrollmentHandler handler) : ApprovalHandler<DeleteEnrollmentGroupPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, DeleteEnrollmentGroupPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.DeleteAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            _ => new($"Deleted enrollment group {payload.GroupId}.", $"setups/{setupId}/enrollment", "Open step 8"));
}
