using System.Globalization;
using System.Security.Claims;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Devices;

/// <param name="IssuerSha1">
/// The CA approvers were told would sign (intermediate or root); applying refuses if another would. Null in requests
/// stored before it was recorded (then the CA is whichever signs at apply time, as before).
/// </param>
[ApprovalPayloadKind("issue-devices")]
public sealed record IssueDevicesPayload(IReadOnlyList<string> RegistrationIds, string? IssuerSha1 = null) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.IssueDevices;

    public override bool OnePendingPerSetup => false;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var facts = SetupCertificates.StartFacts(setup);
        var root = SetupCertificates.RootOf(setup);
        var ids = this.RegistrationIds;
        if (ids.Count == 0)
        {
            return SetupRequestPlan.Refuse("No registration ids given.", "Enter one id per line, or a prefix and a count.");
        }

        if (ids.Count > DeviceSettings.MaxBatch)
        {
            return SetupRequestPlan.Refuse($"{ids.Count} devices at once is too many.", $"Issue at most {DeviceSettings.MaxBatch} per batch.");
        }

        var invalid = DeviceSettings.Check(ids).Where(c => !c.IsValid).ToList();
        if (invalid.Count > 0)
        {
            return SetupRequestPlan.Refuse(string.Join(" ", invalid.Take(3).SelectMany(c => c.Errors)), "Correct the registration ids and try again.");
        }

        var (_, issuer) = SetupCertificates.SigningCa(setup, setup.Certificates);
        if (issuer is null)
        {
            return SetupRequestPlan.Refuse("This setup has no CA whose key the portal holds.", "Generate the CA in step 5 first.");
        }

        var device = IssuancePolicy.Recommended;
        facts.Add(new("Device count", ids.Count.ToString(CultureInfo.InvariantCulture)));
        facts.Add(new("Registration ids", ids.Count <= 5 ? string.Join(", ", ids) : $"{string.Join(", ", ids.Take(3))} … {ids[^1]}"));
        facts.Add(new("Issuing CA", $"{SetupCertificates.ShortName(issuer.Subject)} ({issuer.Kind.ToString().ToLowerInvariant()}), SHA-1 {issuer.ThumbprintSha1}"));
        facts.Add(new("Key type", $"{device.KeyAlgorithm.ToDisplay()}, a new key per device"));
        facts.Add(new("Validity", SetupCertificates.Days(device.DeviceValidity)));
        facts.Add(new("Keys", "Downloadable by the requester for 15 minutes after it is applied; the PFX password is shown once, to the requester"));
        return SetupRequestPlan.Ask(this with { IssuerSha1 = issuer.ThumbprintSha1 }, $"Issue {ids.Count} device certificate{(ids.Count == 1 ? "" : "s")} for {setup.Name}", facts);
    }
}

/// <summary>
/// Applies an approved batch as the approver; the keys belong to the requester, and so does the PFX password, handed
/// to them alone, once (the approver never sees it).
/// </summary>
public sealed class IssueDevicesApproval(DeviceIssuanceHandler handler, ApprovalHandoff handoff) : ApprovalHandler<IssueDevicesPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, IssueDevicesPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var result = setupId is { } id ? await handler.IssueAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null;
        if (result?.Value is { } batch)
        {
            handoff.Keep(ApprovalService.SecretKey(grant.RequestId), SetupApprovalOutcome.RequesterId(grant), Encoding.UTF8.GetBytes(batch.PfxPassword));
            return ApprovalApplyResult.Applied(new(
                $"Issued {batch.Devices.Count} device certificate{(batch.Devices.Count == 1 ? "" : "s")} (batch {batch.BatchId}). {grant.RequestedBy} can download keys and PFX files until {batch.KeysAvailableUntil.ToString("HH:mm 'UTC'", CultureInfo.InvariantCulture)}.",
                $"setups/{setupId}/batches/{batch.BatchId}.zip", "Download the batch (ZIP)", HasSecret: true, IsDownload: true));
        }

        return SetupApprovalOutcome.Of(result, _ => new(""));
    }
}
