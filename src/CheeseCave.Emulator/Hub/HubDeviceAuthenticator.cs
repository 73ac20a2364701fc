using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.Service;
using CheeseCave.Emulator.State;
using CheeseCave.Pki;

namespace CheeseCave.Emulator.Hub;

/// <summary>Who connected, or why not (one sentence for the log and the tests; the device only sees "not authorized").</summary>
internal sealed record HubAuthentication(HubDeviceIdentity? Identity, string? Refusal)
{
    public static HubAuthentication Refuse(string why) => new(null, why);
}

/// <summary>
/// Authenticates a device connecting to an emulated hub, against the hub's registry as IoT Hub does: the device must
/// exist and be enabled; with X.509, the certificate's CN must be the device id and, for a "selfSigned" identity, its
/// SHA-1 or SHA-256 thumbprint must be the primary or secondary one; for a "certificateAuthority" identity, the chain
/// the device sent must lead to a verified CA certificate of a DPS linked to the hub (DPS's own chain rules); a "sas"
/// identity signs a token for {hub}/devices/{id} with one of its keys.
/// </summary>
internal sealed class HubDeviceAuthenticator(EmulatorStore store, TimeProvider time)
{
    public HubAuthentication Authenticate(string hubHostName, string deviceId, PeerCertificates? peer, string? password)
    {
        var host = hubHostName.ToLowerInvariant();
        var hubName = RegistrationJson.HubName(host);
        if (!HubExists(hubName, host))
        {
            return HubAuthentication.Refuse($"IoT hub '{host}' does not exist in this emulator.");
        }

        if (store.HubDevices.Get(ArmKeys.HubDevice(hubName, deviceId)) is not { } device)
        {
            return HubAuthentication.Refuse($"Device '{deviceId}' is not registered in IoT hub '{host}'.");
        }

        if (!string.Equals(device.Status, "enabled", StringComparison.OrdinalIgnoreCase))
        {
            return HubAuthentication.Refuse($"Device '{deviceId}' is disabled in IoT hub '{host}'" + (device.StatusReason is { } reason ? $" ({reason})." : "."));
        }

        var identity = new HubDeviceIdentity(hubName, host, device.DeviceId);
        if (string.Equals(device.AuthenticationType, "sas", StringComparison.OrdinalIgnoreCase))
        {
            return CheckSas(identity, device, password);
        }

        if (peer is null)
        {
            return HubAuthentication.Refuse($"Device '{deviceId}' authenticates with X.509 ({device.AuthenticationType}), and the connection presented no client certificate.");
        }

        var presented = DeviceChainValidator.Presented(peer);
        if (!string.Equals(SubjectNames.GetCommonName(peer.Leaf), device.DeviceId, StringComparison.Ordinal))
        {
            return HubAuthentication.Refuse($"The certificate's CN '{SubjectNames.GetCommonName(peer.Leaf)}' is not the device id '{device.DeviceId}'.");
        }

        if (DeviceChainValidator.CheckLeaf(peer.Leaf, device.DeviceId, time.GetUtcNow(), presented) is { } leafError)
        {
            return HubAuthentication.Refuse(leafError.Message);
        }

        return string.Equals(device.AuthenticationType, "certificateAuthority", StringComparison.OrdinalIgnoreCase)
            ? CheckCaChain(identity, peer.Leaf, presented)
            : CheckThumbprint(identity, device, peer.Leaf);
    }

    private bool HubExists(string hubName, string host) =>
        store.IotHubs.Get(ArmKeys.IotHub(hubName)) is { } hub && string.Equals(hub.HostName, host, StringComparison.OrdinalIgnoreCase)
        || LinkedServices(host).Any();

    private IEnumerable<ProvisioningServiceEntity> LinkedServices(string host) =>
        store.ProvisioningServices.All.Where(d => d.IotHubs.Any(h => string.Equals(h.HostName, host, StringComparison.OrdinalIgnoreCase)));

    private static HubAuthentication CheckThumbprint(HubDeviceIdentity identity, HubDeviceEntity device, X509Certificate2 leaf)
    {
        var sha1 = leaf.GetCertHashString(HashAlgorithmName.SHA1);
        var sha256 = leaf.GetCertHashString(HashAlgorithmName.SHA256);
        foreach (var expected in new[] { device.PrimaryThumbprint, device.SecondaryThumbprint })
        {
            if (expected is { Length: > 0 } && (expected.Equals(sha1, StringComparison.OrdinalIgnoreCase) || expected.Equals(sha256, StringComparison.OrdinalIgnoreCase)))
            {
                return new HubAuthentication(identity, null);
            }
        }

        return HubAuthentication.Refuse($"The certificate's thumbprint (SHA-1 {sha1}, SHA-256 {sha256}) is neither the primary nor the secondary thumbprint of device '{device.DeviceId}'.");
    }

    private HubAuthentication CheckCaChain(HubDeviceIdentity identity, X509Certificate2 leaf, IReadOnlyList<X509Certificate2> presented)
    {
        string? why = null;
        foreach (var dps in LinkedServices(identity.HubHostName))
        {
            var certificates = store.DpsCertificates.All.Where(c => string.Equals(c.Dps, dps.Name, StringComparison.OrdinalIgnoreCase)).ToList();
            var (chain, error) = DeviceChainValidator.Validate(leaf, presented, certificates, dps.Name, time.GetUtcNow());
            if (chain is not null) return new HubAuthentication(identity, null);
            why ??= error?.Message;
        }

        return HubAuthentication.Refuse(why ?? $"No DPS linked to '{identity.HubHostName}' holds a verified CA certificate for device '{identity.DeviceId}'.");
    }

    private HubAuthentication CheckSas(HubDeviceIdentity identity, HubDeviceEntity device, string? password)
    {
        if (!SharedAccessSignatures.TryParse(password, out var token, out _, out var error) || token is null)
        {
            return HubAuthentication.Refuse($"Device '{device.DeviceId}' authenticates with a SAS token, and the password is not one: {error}");
        }

        var audience = $"{identity.HubHostName}/devices/{device.DeviceId}";
        if (!token.Resource.StartsWith(audience, StringComparison.OrdinalIgnoreCase) || SharedAccessSignatures.IsExpired(token, time.GetUtcNow()))
        {
            return HubAuthentication.Refuse($"The SAS token must be for '{audience}' and not expired.");
        }

        return SharedAccessSignatures.VerifySignature(token, device.PrimaryKey, device.SecondaryKey)
            ? new HubAuthentication(identity, null)
            : HubAuthentication.Refuse($"The SAS token of device '{device.DeviceId}' is not signed with either of its keys.");
    }
}
