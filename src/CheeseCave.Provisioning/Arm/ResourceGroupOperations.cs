using Azure;
using Azure.Core;
using Azure.ResourceManager.Resources;

namespace CheeseCave.Provisioning.Arm;

/// <summary>Subscriptions and resource groups, through the ArmClient.</summary>
internal sealed class ResourceGroupOperations(ArmRequests requests)
{
    /// <summary>The connection's subscription, or the first one the credential can see.</summary>
    public Task<SubscriptionInfo> GetDefaultSubscriptionAsync(CancellationToken cancellationToken = default) =>
        requests.DefaultSubscriptionAsync(cancellationToken);

    public Task<IReadOnlyList<SubscriptionInfo>> ListSubscriptionsAsync(CancellationToken cancellationToken = default) =>
        ArmRequests.CallAsync("list the subscriptions", async () =>
        {
            var result = new List<SubscriptionInfo>();
            await foreach (var subscription in requests.Arm.GetSubscriptions().GetAllAsync(cancellationToken).ConfigureAwait(false))
            {
                result.Add(ArmRequests.Subscription(subscription.Data));
            }

            return (IReadOnlyList<SubscriptionInfo>)result;
        }, cancellationToken);

    public Task<IReadOnlyList<ResourceGroupInfo>> ListResourceGroupsAsync(CancellationToken cancellationToken = default) =>
        ArmRequests.CallAsync("list the resource groups", async () =>
        {
            var subscription = await requests.SubscriptionAsync(cancellationToken).ConfigureAwait(false);
            var result = new List<ResourceGroupInfo>();
            await foreach (var group in subscription.GetResourceGroups().GetAllAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                result.Add(ArmRequests.ResourceGroup(group.Data));
            }

            return (IReadOnlyList<ResourceGroupInfo>)result;
        }, cancellationToken);

    /// <summary>The resource group, or null when it does not exist.</summary>
    public Task<ResourceGroupInfo?> GetResourceGroupAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return ArmRequests.CallAsync($"read resource group '{name}'", async () =>
        {
            var subscription = await requests.SubscriptionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var response = await subscription.GetResourceGroups().GetAsync(name, cancellationToken).ConfigureAwait(false);
                return ArmRequests.ResourceGroup(response.Value.Data);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return null;
            }
        }, cancellationToken);
    }

    public Task<ResourceGroupInfo> CreateOrUpdateResourceGroupAsync(string name, string location, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        return ArmRequests.CallAsync($"create resource group '{name}'", async () =>
        {
            var subscription = await requests.SubscriptionAsync(cancellationToken).ConfigureAwait(false);
            var operation = await subscription.GetResourceGroups()
                .CreateOrUpdateAsync(WaitUntil.Completed, name, new ResourceGroupData(new AzureLocation(location)), cancellationToken).ConfigureAwait(false);
            return ArmRequests.ResourceGroup(operation.Value.Data);
        }, cancellationToken);
    }
}
