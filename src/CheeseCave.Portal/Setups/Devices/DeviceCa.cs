using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;

namespace CheeseCave.Portal.Setups.Devices;

/// <summary>The signing CA of a setup's devices, and a device as the pages show it.</summary>
public static class DeviceCa
{
    /// <param name="caller">Who looks (null: the batch just issued, shown to whoever asked for it).</param>
    public static SetupDeviceView ToView(DeviceKeyVault deviceKeys, SetupDevice device, Actor? caller)
    {
        var owner = deviceKeys.Owner(device.Id);
        return new(device.Id, device.RegistrationId, device.ThumbprintSha1, device.NotAfter, device.BatchId, device.IssuedBy, device.IssuedAt, deviceKeys.AvailableUntil(device.Id),
            owner?.Name, owner is not null && (caller is null || string.Equals(owner.UserId, caller.Id, StringComparison.Ordinal)));
    }

    /// <summary>The CA that signs devices, with its key opened from the protected store (and the root above an intermediate).</summary>
    public static async Task<CaCredential> OpenAsync(IKeyStore keys, SetupCertificate issuer, SetupCertificate root, CancellationToken cancellationToken)
    {
        var key = await keys.OpenAsync(issuer.KeyId!, cancellationToken).ConfigureAwait(false);
        var certificate = X509Certificate2.CreateFromPem(issuer.Pem);
        return issuer.Id == root.Id
            ? CaCredential.Create(certificate, key)
            : CaCredential.Create(certificate, key, [X509Certificate2.CreateFromPem(root.Pem)]);
    }

    /// <summary>Why a device key can no longer be downloaded (or used for a test registration).</summary>
    public static PortalError KeyGone(string registrationId) => new(
        $"The private key of '{registrationId}' is no longer available.",
        "Keys are kept for 15 minutes after issuing (and are lost when the portal restarts). Issue the device again in step 9; its certificates stay downloadable.",
        Status: 410);
}
