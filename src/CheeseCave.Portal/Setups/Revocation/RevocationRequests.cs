using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Revocation;

/// <summary>Revoke one registration id: the certificate row the requester looked at, and why (kept in the records).</summary>
[ApprovalPayloadKind("revoke-device")]
public sealed record RevokeDevicePayload(int DeviceId, string RegistrationId, string Reason, string ThumbprintSha1) : SetupPayload
{
    public const int MaxReasonLength = 200;

    public override ApprovalAction Action => ApprovalAction.RevokeDevice;

    public override bool OnePendingPerSetup => false;

    public static PortalError? ReasonProblem(string? reason) => reason switch
    {
        null or { Length: 0 } => new PortalError("A reason is required to revoke a device.", "Say in a few words why (for example: stolen, decommissioned, key leaked)."),
        { Length: > MaxReasonLength } => new PortalError($"The reason is longer than {MaxReasonLength} characters.", "Shorten it; the details can go in your ticket system."),
        _ => null,
    };

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        if (ReasonProblem(Reason) is { } problem)
        {
            return SetupRequestPlan.Refuse(problem);
        }

        var facts = SetupCertificates.StartFacts(setup);
        facts.Add(new("Registration id", RegistrationId));
        facts.Add(new("Certificate SHA-1", ThumbprintSha1));
        facts.Add(new("Reason", Reason));
        facts.Add(new("In DPS", $"A disabled individual enrollment for '{RegistrationId}': DPS refuses the device, its group's other devices still register"));
        facts.Add(new("In the hub", "The device identity is disabled, if DPS had assigned it"));
        return SetupRequestPlan.Ask(this, $"Revoke device {RegistrationId} in {setup.Name}", facts);
    }
}

/// <summary>Undo a revocation of one registration id.</summary>
[ApprovalPayloadKind("restore-device")]
public sealed record RestoreDevicePayload(int DeviceId, string RegistrationId) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.RestoreDevice;

    public override bool OnePendingPerSetup => false;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        facts.Add(new("Registration id", RegistrationId));
        facts.Add(new("In DPS", setup.EnrollmentGroupId is null
            ? "The device's individual enrollment is enabled again"
            : $"The blocking individual enrollment is deleted, so the group '{setup.EnrollmentGroupId}' applies again"));
        facts.Add(new("In the hub", "The device identity is enabled again, if DPS had assigned it"));
        return SetupRequestPlan.Ask(this, $"Restore revoked device {RegistrationId} in {setup.Name}", facts);
    }
}

/// <summary>Revoke a whole CA: what the requester was warned it shuts out is pinned here, for the approvers.</summary>
[ApprovalPayloadKind("revoke-ca")]
public sealed record RevokeCaPayload(int CertificateId, string ThumbprintSha1, string Warning) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.RevokeCa;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var ca = setup.Certificates.FirstOrDefault(c => c.Id == CertificateId);
        if (ca is null)
        {
            return SetupRequestPlan.Refuse("This CA is not part of the setup.", "Open the CA from the certificate list again.");
        }

        if (ca.RetiredAt is not null)
        {
            return SetupRequestPlan.Refuse($"The CA '{SetupCertificates.ShortName(ca.Subject)}' is already retired.", "Nothing to do.");
        }

        var facts = SetupCertificates.StartFacts(setup);
        SetupCertificates.AddFacts(facts, ca);
        facts.Add(new("What it shuts out", Warning));
        return SetupRequestPlan.Ask(this, $"Revoke the CA {SetupCertificates.ShortName(ca.Subject)} of {setup.Name}", facts);
    }
}

public sealed class RevokeDeviceApproval(DeviceRevocationHandler handler) : ApprovalHandler<RevokeDevicePayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, RevokeDevicePayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.RevokeAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            view => new ApprovalOutcome(view.Summary, $"certificates/devices/{payload.DeviceId}", "Open the device"));
}

public sealed class RestoreDeviceApproval(DeviceRevocationHandler handler) : ApprovalHandler<RestoreDevicePayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, RestoreDevicePayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.RestoreAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            view => new ApprovalOutcome(view.Summary, $"certificates/devices/{payload.DeviceId}", "Open the device"));
}

public sealed class RevokeCaApproval(CaRevocationHandler handler) : ApprovalHandler<RevokeCaPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, RevokeCaPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await handler.RevokeAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            view => new ApprovalOutcome(view.Summary, $"certificates/cas/{payload.CertificateId}", "Open the CA"));
}
