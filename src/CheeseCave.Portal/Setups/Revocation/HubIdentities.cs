using CheeseCave.Portal.Targets;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.IotHub;

namespace CheeseCave.Portal.Setups.Revocation;

/// <summary>
/// Opens the device registry of the hub DPS assigned a device to: the hub is found by its host name among the hubs
/// the caller can see in ARM, and its connection string (a policy with RegistryWrite, iothubowner first) comes from
/// listkeys, used on the server only and never stored.
/// </summary>
public static class HubIdentities
{
    /// <returns>Null when no hub with that host name is in the subscription.</returns>
    public static async Task<HubRegistryClient?> OpenAsync(ProvisioningConnectionFactory provisioning, System.Security.Claims.ClaimsPrincipal caller, ArmProvisioningClient arm, string hubHost, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provisioning);
        ArgumentNullException.ThrowIfNull(arm);
        var hubs = await arm.ListIotHubsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var hub = hubs.FirstOrDefault(h => string.Equals(h.HostName, hubHost, StringComparison.OrdinalIgnoreCase));
        if (hub is null)
        {
            return null;
        }

        var connectionString = await arm.GetIotHubConnectionStringAsync(hub.ResourceGroup, hub.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new HubRegistryClient(connectionString, provisioning.GetConnection(caller));
    }
}
