using Azure;
using Azure.Core;
using Azure.ResourceManager.Resources;
using Azure.ResourceManager.Resources.Models;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.Arm;

/// <summary>IoT hubs: list, read, create with progress, keys and the policies DPS can link with, delete.</summary>
internal sealed class IotHubOperations(ArmRequests requests)
{
    public async Task<IReadOnlyList<IotHubInfo>> ListIotHubsAsync(string? resourceGroup = null, CancellationToken cancellationToken = default)
    {
        var items = await requests.ListAsync(await requests.ProviderPathAsync(resourceGroup, "IotHubs", cancellationToken).ConfigureAwait(false),
            ArmApiVersions.IotHubs, "list the IoT hubs", cancellationToken).ConfigureAwait(false);
        return items.Select(ArmJson.IotHub).ToList();
    }

    /// <summary>The hub, or null when it (or its resource group) does not exist.</summary>
    public async Task<IotHubInfo?> GetIotHubAsync(string resourceGroup, string name, CancellationToken cancellationToken = default)
    {
        var id = await requests.IotHubIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        var response = await requests.GetGenericAsync(id, $"read IoT hub '{name}'", cancellationToken).ConfigureAwait(false);
        return response is null ? null : ArmRequests.IotHub(response.Value.Data);
    }

    public async Task<ArmProvisioningOperation<IotHubInfo>> StartCreateIotHubAsync(IotHubCreateOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ResourceGroup);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Name);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Location);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.SkuName);
        var id = await requests.IotHubIdAsync(options.ResourceGroup, options.Name, cancellationToken).ConfigureAwait(false);
        var data = new GenericResourceData(new AzureLocation(options.Location))
        {
            Sku = new ResourcesSku { Name = options.SkuName, Capacity = checked((int)options.SkuCapacity) },
            Properties = BinaryData.FromString("{}"),
        };
        ArmRequests.AddTags(data, options.Tags);
        var action = $"create IoT hub '{options.Name}'";
        var operation = await ArmRequests.CallAsync(action, () => requests.Arm.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Started, id, data, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new ArmProvisioningOperation<IotHubInfo>(operation, ArmRequests.IotHub, action, requests.Options.TimeProvider, requests.Options.OperationPollInterval);
    }

    public async Task<IotHubInfo> CreateIotHubAsync(IotHubCreateOptions options, CancellationToken cancellationToken = default)
    {
        var operation = await StartCreateIotHubAsync(options, cancellationToken).ConfigureAwait(false);
        return await operation.WaitForCompletionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>All shared access policies of a hub, with keys.</summary>
    public async Task<IReadOnlyList<AccessPolicyInfo>> ListIotHubKeysAsync(string resourceGroup, string name, CancellationToken cancellationToken = default)
    {
        var id = await requests.IotHubIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        var items = await requests.ListAsync($"{id}/listkeys", ArmApiVersions.IotHubs, $"list the keys of IoT hub '{name}'", cancellationToken, RequestMethod.Post).ConfigureAwait(false);
        return items.Select(ArmJson.Policy).ToList();
    }

    /// <summary>The hub policies DPS can link with (RegistryWrite and ServiceConnect), iothubowner first.</summary>
    public async Task<IReadOnlyList<AccessPolicyInfo>> ListIotHubProvisioningPoliciesAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        SelectProvisioningPolicies(await ListIotHubKeysAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false));

    /// <summary>Keeps the policies with RegistryWrite and ServiceConnect (what DPS needs on a linked hub), iothubowner first.</summary>
    public static IReadOnlyList<AccessPolicyInfo> SelectProvisioningPolicies(IEnumerable<AccessPolicyInfo> policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        return policies.Where(p => p.CanProvisionDevices)
            .OrderByDescending(p => p.KeyName.Equals(AccessPolicyInfo.IotHubOwner, StringComparison.OrdinalIgnoreCase))
            .ThenBy(p => p.KeyName, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    /// <summary>
    /// The hub's connection string for linking it to a DPS: the named policy, or the first that can provision
    /// devices (iothubowner when present).
    /// </summary>
    public async Task<string> GetIotHubConnectionStringAsync(string resourceGroup, string name, string? keyName = null, CancellationToken cancellationToken = default)
    {
        var hub = await GetIotHubAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false)
            ?? throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Arm, 404, $"Could not read IoT hub '{name}': it does not exist in resource group '{resourceGroup}'.", "ResourceNotFound"));
        var policies = await ListIotHubKeysAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        var usable = SelectProvisioningPolicies(policies);
        var policy = keyName is null
            ? (usable.Count > 0 ? usable[0] : null)
            : policies.FirstOrDefault(p => p.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase));
        if (policy is null)
        {
            throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Arm, 404, keyName is null
                ? $"IoT hub '{name}' has no shared access policy with RegistryWrite and ServiceConnect, which DPS needs."
                : $"IoT hub '{name}' has no shared access policy '{keyName}'.", "KeyNameNotFound"));
        }

        return policy.ToConnectionString(hub.HostName ?? throw new ProvisioningException($"IoT hub '{name}' reports no host name yet."));
    }

    public async Task<bool> DeleteIotHubAsync(string resourceGroup, string name, CancellationToken cancellationToken = default)
    {
        var id = await requests.IotHubIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        return await requests.DeleteGenericAsync(id, $"delete IoT hub '{name}'", cancellationToken).ConfigureAwait(false);
    }
}
