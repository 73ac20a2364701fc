using System.Security.Claims;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Revocation;

/// <summary>One device certificate as its page shows it: the facts, and the renewal chain of its registration id.</summary>
public sealed record DeviceCertificateDetails(
    int SetupId,
    string SetupName,
    SetupDevice Certificate,
    DeviceCertificateStatus Status,
    IReadOnlyList<DeviceHistoryEntry> History,
    SetupDeviceView Download,
    bool HasDps);

/// <summary>A certificate of the same registration id, oldest first.</summary>
public sealed record DeviceHistoryEntry(int Id, string ThumbprintSha1, DateTimeOffset IssuedAt, DateTimeOffset NotAfter, DeviceCertificateStatus Status, string Source, bool IsThis);

/// <summary>Where the device is now, read live from DPS (and the hub it was assigned to).</summary>
public sealed record DeviceRegistrationLive(string RegistrationId, string? Status, string? AssignedHub, string? Substatus, DateTimeOffset? LastUpdated, string? ErrorMessage, string? IndividualEnrollment, string? HubStatus);

/// <summary>A CA certificate as its page shows it.</summary>
public sealed record CaCertificateDetails(int SetupId, string SetupName, SetupCertificate Certificate, int DevicesSigned);

/// <summary>The reads of the device and CA certificate pages (Viewer).</summary>
public sealed class DeviceCertificateReader(SetupPipeline pipeline, DeviceKeyVault deviceKeys)
{
    public async Task<PortalResult<DeviceCertificateDetails>> GetDeviceAsync(ClaimsPrincipal caller, int deviceId, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is not { } actor)
        {
            return PortalResult.Fail<DeviceCertificateDetails>(PortalError.NotAllowed("see certificates"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var device = await db.SetupDevices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId, cancellationToken).ConfigureAwait(false);
        var setup = device is null ? null : await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == device.SetupId, cancellationToken).ConfigureAwait(false);
        if (device is null || setup is null)
        {
            return PortalResult.Fail<DeviceCertificateDetails>(DeviceRevocationHandler.DeviceNotFound);
        }

        var now = pipeline.Time.GetUtcNow();
        var rows = await db.SetupDevices.AsNoTracking().Where(d => d.SetupId == device.SetupId && d.RegistrationId == device.RegistrationId).OrderBy(d => d.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var history = rows.Select(r => new DeviceHistoryEntry(r.Id, r.ThumbprintSha1, r.IssuedAt, r.NotAfter, DeviceLifecycle.StatusOf(r, now),
            r.Source == DeviceCertificateSource.DeviceCsr ? "device CSR" : "portal key", r.Id == device.Id)).ToList();
        return PortalResult.Ok(new DeviceCertificateDetails(setup.Id, setup.Name, device, DeviceLifecycle.StatusOf(device, now), history,
            DeviceCa.ToView(deviceKeys, device, actor), setup.DpsName is not null));
    }

    /// <summary>The registration state in DPS, the blocking individual enrollment if any, and the hub identity's status. A device DPS never saw is "not registered yet".</summary>
    public async Task<PortalResult<DeviceRegistrationLive>> ReadRegistrationAsync(ClaimsPrincipal caller, int deviceId, CancellationToken cancellationToken = default)
    {
        var details = await GetDeviceAsync(caller, deviceId, cancellationToken).ConfigureAwait(false);
        if (details.Value is not { } found)
        {
            return PortalResult.Fail<DeviceRegistrationLive>(details.Error!);
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().FirstAsync(s => s.Id == found.SetupId, cancellationToken).ConfigureAwait(false);
        var registrationId = found.Certificate.RegistrationId;
        if (setup.DpsName is null || setup.ResourceGroup is null)
        {
            return PortalResult.Ok(new DeviceRegistrationLive(registrationId, null, null, null, null, "This setup has no DPS yet.", null, null));
        }

        return await pipeline.ReadAsync(caller, async arm =>
        {
            using var service = await pipeline.DpsServiceAsync(caller, arm, setup.ResourceGroup, setup.DpsName, cancellationToken).ConfigureAwait(false);
            var state = await service.GetDeviceRegistrationStateAsync(registrationId, cancellationToken).ConfigureAwait(false);
            var enrollment = await service.GetIndividualEnrollmentAsync(registrationId, cancellationToken).ConfigureAwait(false);
            string? hubStatus = null;
            if (state?.AssignedHub is { Length: > 0 } hubHost)
            {
                using var hub = await HubIdentities.OpenAsync(pipeline.Provisioning, caller, arm, hubHost, cancellationToken).ConfigureAwait(false);
                var identity = hub is null ? null : await hub.GetDeviceAsync(state.DeviceId ?? registrationId, cancellationToken).ConfigureAwait(false);
                hubStatus = identity is null ? "not in the hub" : identity.Status + (identity.StatusReason is { Length: > 0 } why ? $" ({why})" : "");
            }

            return new DeviceRegistrationLive(registrationId,
                state?.Status?.ToString() ?? "not registered yet", state?.AssignedHub, state?.Substatus?.ToString(), state?.LastUpdatedDateTimeUtc, state?.ErrorMessage,
                enrollment is null ? null : $"individual enrollment, {enrollment.ProvisioningStatus?.ToString().ToLowerInvariant() ?? "enabled"}", hubStatus);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<PortalResult<CaCertificateDetails>> GetCaAsync(ClaimsPrincipal caller, int certificateId, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<CaCertificateDetails>(PortalError.NotAllowed("see certificates"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var ca = await db.SetupCertificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == certificateId, cancellationToken).ConfigureAwait(false);
        var setup = ca is null ? null : await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == ca.SetupId, cancellationToken).ConfigureAwait(false);
        if (ca is null || setup is null)
        {
            return PortalResult.Fail<CaCertificateDetails>(CaRevocationHandler.CaNotFound);
        }

        var signed = await db.SetupDevices.AsNoTracking().CountAsync(d => d.SetupId == setup.Id && d.Issuer == ca.Subject, cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(new CaCertificateDetails(setup.Id, setup.Name, ca, signed));
    }
}
