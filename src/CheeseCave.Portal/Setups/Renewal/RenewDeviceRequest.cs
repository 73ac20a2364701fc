using System.Globalization;
using System.Security.Claims;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Renewal;

/// <summary>
/// Renew one device certificate: the row being renewed (its thumbprint pinned), and the device's CSR (public, PEM)
/// when the key stays on the device; without one the portal makes a new key. <see cref="IssuerSha1"/> is the CA the
/// approvers were told would sign; applying refuses if another would.
/// </summary>
[ApprovalPayloadKind("renew-device")]
public sealed record RenewDevicePayload(int DeviceId, string RegistrationId, string ThumbprintSha1, string? CsrPem, string? IssuerSha1 = null) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.RenewDevice;

    public override bool OnePendingPerSetup => false;

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var (_, issuer) = SetupCertificates.SigningCa(setup, setup.Certificates);
        if (issuer is null)
        {
            return SetupRequestPlan.Refuse("This setup has no CA whose key the portal holds.", "Generate or import the CA with its key first.");
        }

        var facts = SetupCertificates.StartFacts(setup);
        facts.Add(new("Registration id", RegistrationId));
        facts.Add(new("Replaces", $"certificate SHA-1 {ThumbprintSha1} (marked superseded once applied)"));
        if (CsrPem is not null)
        {
            // Every check of the CSR runs now, so approvers never see a request that cannot be applied.
            if (CsrProblem(CsrPem, RegistrationId, out var keyType) is { } problem)
            {
                return SetupRequestPlan.Refuse(problem);
            }

            facts.Add(new("Key", $"{keyType}, made on the device (CSR); the portal never sees it"));
        }
        else
        {
            facts.Add(new("Key", $"{IssuancePolicy.Recommended.KeyAlgorithm.ToDisplay()}, a new key made by the portal; downloadable by the requester for 15 minutes, the PFX password shown once"));
        }

        facts.Add(new("Issuing CA", $"{SetupCertificates.ShortName(issuer.Subject)} ({issuer.Kind.ToString().ToLowerInvariant()}), SHA-1 {issuer.ThumbprintSha1}"));
        facts.Add(new("Validity", SetupCertificates.Days(IssuancePolicy.Recommended.DeviceValidity)));
        return SetupRequestPlan.Ask(this with { IssuerSha1 = issuer.ThumbprintSha1 }, $"Renew the certificate of {RegistrationId} in {setup.Name}", facts);
    }

    /// <summary>
    /// The CSR's problem in one sentence (unreadable, bad signature, a CA request, a weak or unsupported key, no CN or
    /// a CN other than the registration id), or null; <paramref name="keyType"/> is its key for the summary.
    /// </summary>
    public static PortalError? CsrProblem(string csrPem, string registrationId, out string? keyType)
    {
        keyType = null;
        try
        {
            var csr = CsrReader.Read(Encoding.UTF8.GetBytes(csrPem ?? ""), System.Security.Cryptography.HashAlgorithmName.SHA256);
            keyType = csr.KeyAlgorithm.ToDisplay();
            var cn = SubjectNames.GetCommonName(csr.SubjectName);
            if (!string.Equals(cn, registrationId, StringComparison.Ordinal))
            {
                return new PortalError(
                    cn is null
                        ? $"The CSR has no CN; it must be the registration id '{registrationId}'."
                        : $"The CSR's CN is '{cn}', but this device's registration id is '{registrationId}': DPS requires them to be equal.",
                    CsrAdvice(registrationId));
            }

            return null;
        }
        catch (PkiException ex)
        {
            return new PortalError(ex.Message, CsrAdvice(registrationId));
        }
    }

    public static string CsrAdvice(string registrationId) => string.Create(CultureInfo.InvariantCulture,
        $"Create a new CSR on the device with CN = {registrationId} and an ECDSA P-256 (or RSA 2048+) key, for example: openssl req -new -key device.key -subj \"/CN={registrationId}\" -out device.csr; then upload it again.");
}

/// <summary>Applies an approved renewal as the approver; a new key and its PFX password belong to the requester alone.</summary>
public sealed class RenewDeviceApproval(DeviceRenewalHandler handler, ApprovalHandoff handoff) : ApprovalHandler<RenewDevicePayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, RenewDevicePayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var result = setupId is { } id ? await handler.RenewAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null;
        if (result?.Value is { PfxPassword: { } password } renewed)
        {
            handoff.Keep(ApprovalService.SecretKey(grant.RequestId), SetupApprovalOutcome.RequesterId(grant), Encoding.UTF8.GetBytes(password));
            return ApprovalApplyResult.Applied(new(
                $"Renewed {payload.RegistrationId} (new SHA-1 {renewed.Device.ThumbprintSha1}). {grant.RequestedBy} can download the key and PFX until {renewed.KeysAvailableUntil?.ToString("HH:mm 'UTC'", CultureInfo.InvariantCulture)}.",
                $"certificates/devices/{renewed.Device.Id}", "Open the new certificate", HasSecret: true));
        }

        return SetupApprovalOutcome.Of(result, view => new ApprovalOutcome(
            $"Renewed {payload.RegistrationId} from the device's CSR (new SHA-1 {view.Device.ThumbprintSha1}).", $"certificates/devices/{view.Device.Id}", "Open the new certificate"));
    }
}
