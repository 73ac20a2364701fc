using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Telemetry;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.Revocation;
using CheeseCave.Provisioning.DpsService;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Renewal;

/// <summary>
/// Renews a device certificate for the same registration id, signed by the setup's current signing CA: with a new
/// key the portal makes (handed out once, like a batch) or from the device's CSR (the key never leaves the device).
/// The new row names the one it renews; the old one is marked superseded. The enrollment group already trusts the
/// CA, so DPS needs nothing, unless the device has an enabled individual enrollment with its certificate: then the
/// new certificate becomes that enrollment's primary (the old one its secondary, so the device works until it
/// switches).
/// </summary>
public sealed class DeviceRenewalHandler(SetupPipeline pipeline, IKeyStore keys, DeviceKeyVault deviceKeys)
{
    /// <param name="csrPem">The device's PKCS#10 request (PEM); null to have the portal make the key.</param>
    public async Task<PortalResult<DeviceRenewalView>> RenewDeviceAsync(ClaimsPrincipal caller, int deviceId, string? csrPem, CancellationToken cancellationToken = default)
    {
        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var device = await db.SetupDevices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId, cancellationToken).ConfigureAwait(false);
        if (device is null)
        {
            return PortalResult.Fail<DeviceRenewalView>(await DeviceRevocationHandler.MissingAsync(pipeline, caller, LifecycleAuditActions.DeviceRenewed, "renew devices", deviceId, cancellationToken).ConfigureAwait(false));
        }

        var csr = string.IsNullOrWhiteSpace(csrPem) ? null : csrPem.Trim();
        return await RenewAsync(caller, device.SetupId, new RenewDevicePayload(device.Id, device.RegistrationId, device.ThumbprintSha1, csr), null, cancellationToken).ConfigureAwait(false);
    }

    internal Task<PortalResult<DeviceRenewalView>> RenewAsync(ClaimsPrincipal caller, int setupId, RenewDevicePayload request, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        pipeline.RunAsync(new SetupChange<DeviceRenewalView>(caller, setupId, LifecycleAuditActions.DeviceRenewed, "renew a device certificate",
            $"device {request.RegistrationId} ({(request.CsrPem is null ? "new key" : "device CSR")})", async (setup, arm, db) =>
        {
            var rows = await db.SetupDevices.Where(d => d.SetupId == setupId && d.RegistrationId == request.RegistrationId).ToListAsync(cancellationToken).ConfigureAwait(false);
            var old = rows.FirstOrDefault(r => r.Id == request.DeviceId);
            if (old is null)
            {
                return PortalResult.Fail<DeviceRenewalView>(DeviceRevocationHandler.DeviceNotFound);
            }

            if (rows.FirstOrDefault(r => r.RevokedAt is not null) is { } revoked)
            {
                return PortalResult.Fail<DeviceRenewalView>(DeviceLifecycle.RevokedRefusal(revoked, "renewed"));
            }

            if (old.SupersededByDeviceId is { } newer)
            {
                return PortalResult.Fail<DeviceRenewalView>(new PortalError(
                    $"This certificate of '{old.RegistrationId}' was already renewed on {old.SupersededAt:yyyy-MM-dd} (certificate #{newer}).",
                    $"Renew the newest certificate instead: open certificates/devices/{newer}.", Status: 409));
            }

            if (!string.Equals(old.ThumbprintSha1, request.ThumbprintSha1, StringComparison.OrdinalIgnoreCase))
            {
                return PortalResult.Fail<DeviceRenewalView>(new PortalError("The certificate changed since the renewal was requested.", "Ask again from the device's current certificate."));
            }

            if (request.CsrPem is { } csrText && RenewDevicePayload.CsrProblem(csrText, request.RegistrationId, out _) is { } csrProblem)
            {
                return PortalResult.Fail<DeviceRenewalView>(csrProblem);
            }

            var cas = await db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == setup.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            var (root, issuer) = SetupCertificates.SigningCa(setup, cas);
            if (root is null || issuer is null)
            {
                return PortalResult.Fail<DeviceRenewalView>(new PortalError("This setup has no CA whose key the portal holds, so it cannot sign the renewal.", "Generate or import the CA with its key first."));
            }

            if (SetupCertificates.CaChanged(issuer, grant is null ? null : request.IssuerSha1) is { } changed)
            {
                return PortalResult.Fail<DeviceRenewalView>(changed);
            }

            using var credential = await DeviceCa.OpenAsync(keys, issuer, root, cancellationToken).ConfigureAwait(false);
            var authority = new Pki.CertificateAuthority(pipeline.Time);
            using var issued = request.CsrPem is { } csr
                ? authority.SignCsr(new CsrSigningRequest(Encoding.UTF8.GetBytes(csr)) { ExpectedRegistrationId = request.RegistrationId }, credential)
                : authority.IssueDeviceCertificate(new DeviceCertificateRequest(request.RegistrationId), credential);
            var now = pipeline.Time.GetUtcNow();
            var actor = Actor.From(caller);
            var renewed = new SetupDevice
            {
                SetupId = setup.Id,
                RegistrationId = request.RegistrationId,
                ChainPem = CertificateExport.ToPem(issued.DeviceChain),
                BatchId = $"renew-{now:yyyyMMdd-HHmmss}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}",
                IssuedBy = actor.Name,
                IssuedAt = now,
                Source = request.CsrPem is null ? DeviceCertificateSource.PortalKey : DeviceCertificateSource.DeviceCsr,
                RequestedBy = grant?.RequestedBy ?? actor.Name,
                ApprovedBy = CertificateFacts.ApproversOf(grant),
                RenewsDeviceId = old.Id,
            };
            CertificateFacts.Fill(renewed, issued.Certificate);

            // DPS before the records: a device with an individual enrollment must be trusted with its new certificate.
            var enrollmentUpdated = await UpdateIndividualEnrollmentAsync(caller, arm, setup, request.RegistrationId, issued.Certificate, old, cancellationToken).ConfigureAwait(false);

            db.SetupDevices.Add(renewed);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false); // the new row's id, for the old row's link
            PortalMetrics.CertificatesIssued("device", renewed.Source.ToString());
            old.SupersededByDeviceId = renewed.Id;
            old.SupersededAt = now;

            string? password = null;
            DateTimeOffset? until = null;
            if (issued.Key is { } key)
            {
                var owner = grant is null
                    ? new KeyOwner(actor.Id ?? throw new InvalidOperationException("The caller has no user id to own the device key."), actor.Name)
                    : new KeyOwner(SetupApprovalOutcome.RequesterId(grant), grant.RequestedBy);
                password = Passphrases.Generate();
                var pkcs8 = key.ExportPkcs8ForProtectedStore();
                var pfx = CertificateExport.ToPfx(issued, password);
                try
                {
                    until = deviceKeys.Keep(renewed.Id, owner, pkcs8, pfx);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(pkcs8);
                    CryptographicOperations.ZeroMemory(pfx);
                }
            }

            return PortalResult.Ok(new DeviceRenewalView(DeviceCa.ToView(deviceKeys, renewed, null), old.Id, password, until, enrollmentUpdated, [.. issued.Warnings]));
        }) { Request = request, Grant = grant }, cancellationToken);

    /// <summary>True when the device had an enabled individual enrollment and it now trusts the new certificate.</summary>
    private async Task<bool> UpdateIndividualEnrollmentAsync(ClaimsPrincipal caller, Provisioning.Arm.ArmProvisioningClient arm, DpsSetup setup, string registrationId, X509Certificate2 renewed, SetupDevice old, CancellationToken cancellationToken)
    {
        if (setup.DpsName is null || setup.ResourceGroup is null)
        {
            return false;
        }

        using var service = await pipeline.DpsServiceAsync(caller, arm, setup.ResourceGroup, setup.DpsName, cancellationToken).ConfigureAwait(false);
        var enrollment = await service.GetIndividualEnrollmentAsync(registrationId, cancellationToken).ConfigureAwait(false);
        if (enrollment is null || enrollment.ProvisioningStatus == ProvisioningStatus.Disabled || enrollment.Attestation?.X509?.ClientCertificates is null)
        {
            return false;
        }

        using var previous = X509Certificate2.CreateFromPem(old.CertificatePem);
        await service.UpdateIndividualEnrollmentAsync(registrationId, e => e.Attestation = AttestationMechanism.FromClientCertificates(renewed, previous), cancellationToken).ConfigureAwait(false);
        return true;
    }
}
