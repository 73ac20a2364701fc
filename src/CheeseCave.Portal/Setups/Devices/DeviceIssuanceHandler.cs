using System.Security.Claims;
using System.Security.Cryptography;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Telemetry;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Devices;

/// <summary>Step 9: device certificates from the setup's CA, and the list of issued devices.</summary>
public sealed class DeviceIssuanceHandler(SetupPipeline pipeline, IKeyStore keys, DeviceKeyVault deviceKeys)
{
    /// <summary>The setup's issued devices, newest first, with whether their key can still be downloaded.</summary>
    public async Task<PortalResult<IReadOnlyList<SetupDeviceView>>> ListDevicesAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is not { } actor)
        {
            return PortalResult.Fail<IReadOnlyList<SetupDeviceView>>(PortalError.NotAllowed("see devices"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var devices = await db.SetupDevices.AsNoTracking().Where(d => d.SetupId == setupId).ToListAsync(cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok<IReadOnlyList<SetupDeviceView>>([.. devices.OrderByDescending(d => d.IssuedAt).ThenBy(d => d.RegistrationId, StringComparer.Ordinal).Select(d => DeviceCa.ToView(deviceKeys, d, actor))]);
    }

    /// <summary>
    /// Issues one device certificate per registration id from the setup's CA (the intermediate when there is one, else
    /// the root; its key is opened from the protected store here and never leaves the server). Certificates are
    /// stored; each device's key and a PFX (with the chain, protected by one generated password per batch) are kept
    /// encrypted in memory for the download window only. The password is returned once and stored nowhere.
    /// </summary>
    public async Task<PortalResult<DeviceBatchView>> IssueDevicesAsync(ClaimsPrincipal caller, int setupId, IReadOnlyList<string> registrationIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registrationIds);
        return await IssueAsync(caller, setupId, new IssueDevicesPayload([.. registrationIds]), null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The change itself: run at once, recorded as a request, or applied once approved (<paramref name="grant"/>; then the signing CA must be the one the approvers saw).</summary>
    internal Task<PortalResult<DeviceBatchView>> IssueAsync(ClaimsPrincipal caller, int setupId, IssueDevicesPayload request, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var registrationIds = request.RegistrationIds;
        var expectedIssuer = grant is null ? null : request.IssuerSha1;
        var detail = registrationIds.Count switch
        {
            0 => "no devices",
            1 => $"device {registrationIds[0]}",
            _ => $"{registrationIds.Count} devices: {registrationIds[0]} … {registrationIds[^1]}",
        };
        return pipeline.RunAsync(new SetupChange<DeviceBatchView>(caller, setupId, AuditActions.SetupDevicesIssued, "issue device certificates", detail, async (setup, _, db) =>
        {
            if (registrationIds.Count == 0)
            {
                return PortalResult.Fail<DeviceBatchView>(new PortalError("No registration ids given.", "Enter one id per line, or a prefix and a count."));
            }

            if (registrationIds.Count > DeviceSettings.MaxBatch)
            {
                return PortalResult.Fail<DeviceBatchView>(new PortalError($"{registrationIds.Count} devices at once is too many.", $"Issue at most {DeviceSettings.MaxBatch} per batch."));
            }

            var checks = DeviceSettings.Check(registrationIds);
            var invalid = checks.Where(c => !c.IsValid).ToList();
            if (invalid.Count > 0)
            {
                return PortalResult.Fail<DeviceBatchView>(new PortalError(
                    string.Join(" ", invalid.Take(3).SelectMany(c => c.Errors)) + (invalid.Count > 3 ? $" (and {invalid.Count - 3} more)" : ""),
                    "Correct the registration ids marked in red and try again."));
            }

            var cas = await db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == setup.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            // An imported CA may come without its key (the root's, or both): only a CA whose key the portal holds can sign.
            var (root, issuer) = SetupCertificates.SigningCa(setup, cas);
            if (root is null || issuer is null)
            {
                return PortalResult.Fail<DeviceBatchView>(root is null
                    ? new PortalError("This setup has no CA yet.", "Generate or import the CA in step 5 first.")
                    : new PortalError("The portal does not hold the private key of this setup's CA (it was imported without it), so it cannot issue device certificates.",
                        "Issue them where the CA key is kept, or import the CA with its key in a new setup."));
            }

            if (SetupCertificates.CaChanged(issuer, expectedIssuer) is { } changed)
            {
                return PortalResult.Fail<DeviceBatchView>(changed);
            }

            using var credential = await DeviceCa.OpenAsync(keys, issuer, root, cancellationToken).ConfigureAwait(false);
            var authority = new Pki.CertificateAuthority(pipeline.Time);
            var password = Passphrases.Generate();
            var now = pipeline.Time.GetUtcNow();
            var batchId = $"{now:yyyyMMdd-HHmmss}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";
            var actor = Actor.From(caller);
            // The keys belong to whoever asked for the batch: for an approved request its requester, not the approver.
            var owner = grant is null
                ? new KeyOwner(actor.Id ?? throw new InvalidOperationException("The caller has no user id to own the device keys."), actor.Name)
                : new KeyOwner(SetupApprovalOutcome.RequesterId(grant), grant.RequestedBy);
            var warnings = checks.SelectMany(c => c.Warnings).ToList();
            var pending = new List<(SetupDevice Device, byte[] Pkcs8, byte[] Pfx)>();
            try
            {
                foreach (var registrationId in registrationIds)
                {
                    using var issued = authority.IssueDeviceCertificate(new DeviceCertificateRequest(registrationId), credential);
                    warnings.AddRange(issued.Warnings);
                    var device = new SetupDevice
                    {
                        SetupId = setup.Id,
                        RegistrationId = registrationId,
                        ChainPem = CertificateExport.ToPem(issued.DeviceChain),
                        BatchId = batchId,
                        IssuedBy = actor.Name,
                        IssuedAt = now,
                        Source = DeviceCertificateSource.PortalKey,
                        RequestedBy = grant?.RequestedBy ?? actor.Name,
                        ApprovedBy = CertificateFacts.ApproversOf(grant),
                    };
                    CertificateFacts.Fill(device, issued.Certificate);
                    db.SetupDevices.Add(device);
                    pending.Add((device, issued.Key!.ExportPkcs8ForProtectedStore(), CertificateExport.ToPfx(issued, password)));
                }

                setup.CurrentStep = Math.Max(setup.CurrentStep, 10);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                PortalMetrics.CertificatesIssued("device", nameof(DeviceCertificateSource.PortalKey), pending.Count);
                var until = now;
                foreach (var (device, pkcs8, pfx) in pending)
                {
                    until = deviceKeys.Keep(device.Id, owner, pkcs8, pfx);
                }

                return PortalResult.Ok(new DeviceBatchView(batchId, password, [.. pending.Select(p => DeviceCa.ToView(deviceKeys, p.Device, null))], until, [.. warnings.Distinct(StringComparer.Ordinal)]));
            }
            finally
            {
                foreach (var (_, pkcs8, pfx) in pending)
                {
                    CryptographicOperations.ZeroMemory(pkcs8);
                    CryptographicOperations.ZeroMemory(pfx);
                }
            }
        }) { Request = request, Grant = grant }, cancellationToken);
    }
}
