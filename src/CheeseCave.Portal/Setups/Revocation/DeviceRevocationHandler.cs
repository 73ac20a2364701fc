using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;
using CheeseCave.Provisioning.IotHub;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Revocation;

/// <summary>
/// Shuts one device out and lets it back in. Revoking creates a disabled individual enrollment for the registration
/// id (its current certificate as the client certificate), which DPS matches before any group, and disables the
/// device in the hub DPS assigned it to; restoring deletes that enrollment and enables the hub device again. The
/// portal records the change on every certificate row of the registration id only once DPS and the hub confirmed it.
/// </summary>
public sealed class DeviceRevocationHandler(SetupPipeline pipeline)
{
    /// <summary>Revokes the device whose certificate row is <paramref name="deviceId"/>, or records the request when approvals are on. Operator.</summary>
    public async Task<PortalResult<DeviceRevocationView>> RevokeDeviceAsync(ClaimsPrincipal caller, int deviceId, string reason, CancellationToken cancellationToken = default)
    {
        var device = await FindAsync(deviceId, cancellationToken).ConfigureAwait(false);
        return device is null
            ? PortalResult.Fail<DeviceRevocationView>(await MissingAsync(caller, LifecycleAuditActions.DeviceRevoked, "revoke devices", deviceId, cancellationToken).ConfigureAwait(false))
            : await RevokeAsync(caller, device.SetupId, new RevokeDevicePayload(device.Id, device.RegistrationId, reason?.Trim() ?? "", device.ThumbprintSha1), null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Restores a revoked device (deletes the blocking enrollment, enables the hub device), or records the request. Operator.</summary>
    public async Task<PortalResult<DeviceRevocationView>> RestoreDeviceAsync(ClaimsPrincipal caller, int deviceId, CancellationToken cancellationToken = default)
    {
        var device = await FindAsync(deviceId, cancellationToken).ConfigureAwait(false);
        return device is null
            ? PortalResult.Fail<DeviceRevocationView>(await MissingAsync(caller, LifecycleAuditActions.DeviceRestored, "restore devices", deviceId, cancellationToken).ConfigureAwait(false))
            : await RestoreAsync(caller, device.SetupId, new RestoreDevicePayload(device.Id, device.RegistrationId), null, cancellationToken).ConfigureAwait(false);
    }

    internal Task<PortalResult<DeviceRevocationView>> RevokeAsync(ClaimsPrincipal caller, int setupId, RevokeDevicePayload request, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        pipeline.RunAsync(new SetupChange<DeviceRevocationView>(caller, setupId, LifecycleAuditActions.DeviceRevoked, "revoke a device", $"device {request.RegistrationId}: {request.Reason}", async (setup, arm, db) =>
        {
            if (RevokeDevicePayload.ReasonProblem(request.Reason) is { } badReason)
            {
                return PortalResult.Fail<DeviceRevocationView>(badReason);
            }

            var rows = await RowsAsync(db, setupId, request.RegistrationId, cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0)
            {
                return PortalResult.Fail<DeviceRevocationView>(PortalError.NotFound);
            }

            if (rows.FirstOrDefault(r => r.RevokedAt is not null) is { } revoked)
            {
                return PortalResult.Fail<DeviceRevocationView>(new PortalError(
                    $"'{request.RegistrationId}' is already revoked (by {revoked.RevokedBy} on {revoked.RevokedAt:yyyy-MM-dd}: {revoked.RevocationReason}).",
                    "Nothing to do; restore it first if it should be revoked for another reason.", Status: 409));
            }

            if (NoDps(setup) is { } noDps)
            {
                return PortalResult.Fail<DeviceRevocationView>(noDps);
            }

            // The newest certificate of the registration id is what the device presents now.
            var current = rows.LastOrDefault(r => r.SupersededByDeviceId is null) ?? rows[^1];
            DpsServiceClient? service = null;
            try
            {
                // DPS confirms this first: if it fails, nothing was changed anywhere and nothing is recorded.
                service = await pipeline.DpsServiceAsync(caller, arm, setup.ResourceGroup!, setup.DpsName!, cancellationToken).ConfigureAwait(false);
                await BlockInDpsAsync(service, request.RegistrationId, current.CertificatePem, cancellationToken).ConfigureAwait(false);
            }
            catch (ProvisioningException ex)
            {
                service?.Dispose();
                return PortalResult.Fail<DeviceRevocationView>(DpsUnreachable(ex, request.RegistrationId, "revoked"));
            }

            using var serviceScope = service;
            var hub = await SetHubStatusAsync(caller, arm, service, request.RegistrationId, HubDeviceStatus.Disabled, $"revoked: {request.Reason}", cancellationToken).ConfigureAwait(false);
            if (hub.Error is { } hubError)
            {
                return PortalResult.Fail<DeviceRevocationView>(hubError with
                {
                    Message = $"DPS now refuses '{request.RegistrationId}' (a disabled individual enrollment), but its hub identity could not be disabled: {hubError.Message}",
                    WhatToDo = "Revoke again to finish: the DPS part is kept and repeating it is safe. The portal records the revocation once the hub is done too.",
                });
            }

            var now = pipeline.Time.GetUtcNow();
            var by = grant?.RequestedBy ?? Actor.From(caller).Name;
            foreach (var row in rows)
            {
                row.RevokedAt = now;
                row.RevokedBy = by;
                row.RevocationReason = request.Reason;
            }

            return PortalResult.Ok(new DeviceRevocationView(request.RegistrationId, true, rows.Count, hub.Value,
                $"'{request.RegistrationId}' is revoked: DPS refuses it{(hub.Value is null ? " (it had not registered yet)" : $" and {hub.Value} is disabled")}."));
        }) { Request = request, Grant = grant }, cancellationToken);

    internal Task<PortalResult<DeviceRevocationView>> RestoreAsync(ClaimsPrincipal caller, int setupId, RestoreDevicePayload request, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        pipeline.RunAsync(new SetupChange<DeviceRevocationView>(caller, setupId, LifecycleAuditActions.DeviceRestored, "restore a revoked device", $"device {request.RegistrationId}", async (setup, arm, db) =>
        {
            var rows = await RowsAsync(db, setupId, request.RegistrationId, cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0)
            {
                return PortalResult.Fail<DeviceRevocationView>(PortalError.NotFound);
            }

            if (rows.All(r => r.RevokedAt is null))
            {
                return PortalResult.Fail<DeviceRevocationView>(new PortalError($"'{request.RegistrationId}' is not revoked.", "Nothing to restore.", Status: 409));
            }

            if (NoDps(setup) is { } noDps)
            {
                return PortalResult.Fail<DeviceRevocationView>(noDps);
            }

            DpsServiceClient? service = null;
            try
            {
                service = await pipeline.DpsServiceAsync(caller, arm, setup.ResourceGroup!, setup.DpsName!, cancellationToken).ConfigureAwait(false);
                await UnblockInDpsAsync(service, request.RegistrationId, setup.EnrollmentGroupId is not null, cancellationToken).ConfigureAwait(false);
            }
            catch (ProvisioningException ex)
            {
                service?.Dispose();
                return PortalResult.Fail<DeviceRevocationView>(DpsUnreachable(ex, request.RegistrationId, "restored"));
            }

            using var serviceScope = service;
            var hub = await SetHubStatusAsync(caller, arm, service, request.RegistrationId, HubDeviceStatus.Enabled, null, cancellationToken).ConfigureAwait(false);
            if (hub.Error is { } hubError)
            {
                return PortalResult.Fail<DeviceRevocationView>(hubError with
                {
                    Message = $"DPS accepts '{request.RegistrationId}' again, but its hub identity could not be enabled: {hubError.Message}",
                    WhatToDo = "Restore again to finish: repeating the DPS part is safe. The portal keeps the device marked revoked until the hub is done too.",
                });
            }

            foreach (var row in rows)
            {
                row.RevokedAt = null;
                row.RevokedBy = null;
                row.RevocationReason = null;
            }

            return PortalResult.Ok(new DeviceRevocationView(request.RegistrationId, false, rows.Count, hub.Value,
                $"'{request.RegistrationId}' is restored: DPS accepts it again{(hub.Value is null ? "" : $" and {hub.Value} is enabled")}."));
        }) { Request = request, Grant = grant }, cancellationToken);

    /// <summary>
    /// Sets the hub identity's status when DPS has assigned the device (read from its registration state; "not
    /// registered yet" is fine: nothing to change). Returns the hub device changed, or the error in plain words.
    /// </summary>
    private async Task<PortalResult<string?>> SetHubStatusAsync(ClaimsPrincipal caller, ArmProvisioningClient arm, DpsServiceClient service, string registrationId, string status, string? reason, CancellationToken cancellationToken)
    {
        try
        {
            var state = await service.GetDeviceRegistrationStateAsync(registrationId, cancellationToken).ConfigureAwait(false);
            if (state?.AssignedHub is not { Length: > 0 } hubHost)
            {
                return PortalResult.Ok<string?>(null);
            }

            var deviceId = state.DeviceId ?? registrationId;
            using var hub = await HubIdentities.OpenAsync(pipeline.Provisioning, caller, arm, hubHost, cancellationToken).ConfigureAwait(false);
            if (hub is null)
            {
                return PortalResult.Fail<string?>(new PortalError($"the hub '{hubHost}' is not in this subscription.", ""));
            }

            await hub.SetStatusAsync(deviceId, status, reason, createIfMissing: status == HubDeviceStatus.Disabled, cancellationToken).ConfigureAwait(false);
            return PortalResult.Ok<string?>($"{hubHost}/{deviceId}");
        }
        catch (ProvisioningException ex)
        {
            return PortalResult.Fail<string?>(PortalError.From(ex) with { Message = ex.Message });
        }
    }

    /// <summary>A disabled individual enrollment with the device's certificate (updated in place when one exists): DPS matches it before any group.</summary>
    private static async Task BlockInDpsAsync(DpsServiceClient service, string registrationId, string certificatePem, CancellationToken cancellationToken)
    {
        var existing = await service.GetIndividualEnrollmentAsync(registrationId, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            await service.UpdateIndividualEnrollmentAsync(registrationId, e => e.ProvisioningStatus = ProvisioningStatus.Disabled, cancellationToken).ConfigureAwait(false);
            return;
        }

        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        await service.CreateOrUpdateIndividualEnrollmentAsync(new IndividualEnrollment
        {
            RegistrationId = registrationId,
            Attestation = AttestationMechanism.FromClientCertificates(certificate),
            ProvisioningStatus = ProvisioningStatus.Disabled,
        }, cancellationToken).ConfigureAwait(false);
    }

    private static Task UnblockInDpsAsync(DpsServiceClient service, string registrationId, bool hasGroup, CancellationToken cancellationToken) => hasGroup
        ? service.DeleteIndividualEnrollmentAsync(registrationId, cancellationToken) // it only existed to block the device: the group applies again
        : service.UpdateIndividualEnrollmentAsync(registrationId, e => e.ProvisioningStatus = ProvisioningStatus.Enabled, cancellationToken); // no group: it was the device's own enrollment

    /// <summary>DPS did not confirm the first change: one sentence saying nothing happened, keeping the status and correlation id.</summary>
    private static PortalError DpsUnreachable(ProvisioningException ex, string registrationId, string action) => PortalError.From(ex) with
    {
        Message = ex.Status is > 0
            ? $"DPS answered {ex.Status} instead of confirming, so '{registrationId}' was not {action} and nothing was changed."
            : $"DPS could not be reached, so '{registrationId}' was not {action} and nothing was changed.",
        WhatToDo = ex.IsTransient
            ? $"This is usually temporary: wait a moment and try again.{(ex.CorrelationId is { } id ? $" If it keeps failing, give an administrator the correlation id {id}." : "")}"
            : PortalError.From(ex).WhatToDo,
    };

    private static PortalError? NoDps(DpsSetup setup) => setup.DpsName is null || setup.ResourceGroup is null
        ? new PortalError("This setup has no DPS, so there is nothing to block the device in.", "Finish step 1 of the setup first.")
        : null;

    internal static Task<List<SetupDevice>> RowsAsync(PortalDbContext db, int setupId, string registrationId, CancellationToken cancellationToken) =>
        db.SetupDevices.Where(d => d.SetupId == setupId && d.RegistrationId == registrationId).OrderBy(d => d.Id).ToListAsync(cancellationToken);

    /// <summary>No such certificate: said only to someone allowed to act at all (a refusal is audited).</summary>
    internal static async Task<PortalError> MissingAsync(SetupPipeline pipeline, ClaimsPrincipal caller, string auditAction, string what, int deviceId, CancellationToken cancellationToken) =>
        await pipeline.RequireChangeAsync(caller, auditAction, $"device certificate {deviceId}", cancellationToken).ConfigureAwait(false) is null
            ? PortalError.NotAllowed(what)
            : DeviceNotFound;

    private Task<PortalError> MissingAsync(ClaimsPrincipal caller, string auditAction, string what, int deviceId, CancellationToken cancellationToken) =>
        MissingAsync(pipeline, caller, auditAction, what, deviceId, cancellationToken);

    public static PortalError DeviceNotFound { get; } = new("This device certificate does not exist (any more).", "Go back to the certificate list and open it from there.", Status: 404);

    private async Task<SetupDevice?> FindAsync(int deviceId, CancellationToken cancellationToken)
    {
        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.SetupDevices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId, cancellationToken).ConfigureAwait(false);
    }
}
