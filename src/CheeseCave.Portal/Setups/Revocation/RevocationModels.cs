using CheeseCave.Portal.Persistence;

namespace CheeseCave.Portal.Setups.Revocation;

/// <summary>Audit action names of renewal and revocation (beside <see cref="AuditActions"/>).</summary>
public static class LifecycleAuditActions
{
    public const string DeviceRenewed = "certificate.device-renew";
    public const string DeviceRevoked = "certificate.device-revoke";
    public const string DeviceRestored = "certificate.device-restore";
    public const string CaRevoked = "certificate.ca-revoke";
}

/// <summary>A device certificate's state in its life: what the pages and the inventory show.</summary>
public enum DeviceCertificateStatus
{
    Active,
    Expiring,
    Expired,
    Superseded,
    Revoked,
}

/// <summary>What a revocation or a restore did, in the terms the page shows.</summary>
/// <param name="HubDevice">The hub identity that was disabled or enabled ("hub.azure-devices.net/device"), or null when DPS had not assigned the device yet.</param>
public sealed record DeviceRevocationView(string RegistrationId, bool Revoked, int CertificateRows, string? HubDevice, string Summary);

/// <summary>What revoking a CA shuts out: the enrollment groups that trust it and the devices it signed.</summary>
public sealed record CaRevocationImpact(int CertificateId, string Subject, string? DpsCertificateName, IReadOnlyList<string> EnrollmentGroups, int ActiveDevices, string Warning);

/// <summary>What revoking a CA did.</summary>
public sealed record CaRevocationView(int CertificateId, string Subject, IReadOnlyList<string> DisabledGroups, bool DpsCertificateDeleted, string Summary);

public static class DeviceLifecycle
{
    /// <summary>Expiring: within this many days of its end.</summary>
    public static readonly TimeSpan ExpiringWithin = TimeSpan.FromDays(30);

    public static DeviceCertificateStatus StatusOf(SetupDevice device, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device switch
        {
            { RevokedAt: not null } => DeviceCertificateStatus.Revoked,
            { SupersededByDeviceId: not null } => DeviceCertificateStatus.Superseded,
            _ when device.NotAfter <= now => DeviceCertificateStatus.Expired,
            _ when device.NotAfter - now <= ExpiringWithin => DeviceCertificateStatus.Expiring,
            _ => DeviceCertificateStatus.Active,
        };
    }

    /// <summary>The plain refusal for changing a revoked device (renewing it), naming who revoked it and why.</summary>
    public static PortalError RevokedRefusal(SetupDevice revoked, string action)
    {
        ArgumentNullException.ThrowIfNull(revoked);
        return new PortalError(
            $"'{revoked.RegistrationId}' was revoked by {revoked.RevokedBy} on {revoked.RevokedAt:yyyy-MM-dd} ({revoked.RevocationReason}), so it cannot be {action}.",
            "Restore the device first (on its certificate page), then try again.", Status: 409);
    }
}
