using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.ResourceManager.Resources;
using Azure.ResourceManager.Resources.Models;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.Arm;

/// <summary>
/// The DPS resource itself: name check, create with progress, read, list, keys, allocation policy and linked hubs
/// (read-modify-write with the etag read just before), delete.
/// </summary>
internal sealed class DpsResourceOperations(ArmRequests requests)
{
    /// <summary>Whether a DPS name is free (DPS names are global: they form {name}.azure-devices-provisioning.net).</summary>
    public async Task<NameAvailabilityInfo> CheckProvisioningServiceNameAvailabilityAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var subscriptionId = await requests.SubscriptionIdAsync(cancellationToken).ConfigureAwait(false);
        using var body = await requests.SendAsync(RequestMethod.Post,
            $"/subscriptions/{subscriptionId}/providers/{ArmApiVersions.ProviderNamespace}/checkProvisioningServiceNameAvailability",
            ArmApiVersions.ProvisioningServices, new JsonObject { ["name"] = name }, null, $"check whether the DPS name '{name}' is available", false, cancellationToken).ConfigureAwait(false);
        var root = body!.RootElement;
        return new NameAvailabilityInfo(ArmJson.Bool(root, "nameAvailable") ?? false, ArmJson.Str(root, "reason"), ArmJson.Str(root, "message"));
    }

    /// <summary>Starts creating a DPS and returns at once with a handle to follow its progress.</summary>
    public async Task<ArmProvisioningOperation<ProvisioningServiceInfo>> StartCreateProvisioningServiceAsync(ProvisioningServiceCreateOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ResourceGroup);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Name);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Location);
        var id = await requests.ProvisioningServiceIdAsync(options.ResourceGroup, options.Name, cancellationToken).ConfigureAwait(false);
        var data = new GenericResourceData(new AzureLocation(options.Location))
        {
            Sku = new ResourcesSku { Name = "S1", Capacity = checked((int)options.SkuCapacity) },
            Properties = BinaryData.FromString(new JsonObject { ["allocationPolicy"] = options.AllocationPolicy.ToString() }.ToJsonString()),
        };
        ArmRequests.AddTags(data, options.Tags);
        var action = $"create DPS '{options.Name}'";
        var operation = await ArmRequests.CallAsync(action, () => requests.Arm.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Started, id, data, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new ArmProvisioningOperation<ProvisioningServiceInfo>(operation, ArmRequests.ProvisioningService, action, requests.Options.TimeProvider, requests.Options.OperationPollInterval);
    }

    /// <summary>Creates a DPS and waits until ARM reports it done.</summary>
    public async Task<ProvisioningServiceInfo> CreateProvisioningServiceAsync(ProvisioningServiceCreateOptions options, CancellationToken cancellationToken = default)
    {
        var operation = await StartCreateProvisioningServiceAsync(options, cancellationToken).ConfigureAwait(false);
        return await operation.WaitForCompletionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The DPS, or null when it (or its resource group) does not exist.</summary>
    public async Task<ProvisioningServiceInfo?> GetProvisioningServiceAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        (await ReadProvisioningServiceAsync(resourceGroup, name, required: false, cancellationToken).ConfigureAwait(false))?.Info;

    /// <summary>The DPS instances of a resource group, or of the whole subscription when <paramref name="resourceGroup"/> is null.</summary>
    public async Task<IReadOnlyList<ProvisioningServiceInfo>> ListProvisioningServicesAsync(string? resourceGroup = null, CancellationToken cancellationToken = default)
    {
        var items = await requests.ListAsync(await requests.ProviderPathAsync(resourceGroup, "provisioningServices", cancellationToken).ConfigureAwait(false),
            ArmApiVersions.ProvisioningServices, "list the provisioning services", cancellationToken).ConfigureAwait(false);
        return items.Select(ArmJson.ProvisioningService).ToList();
    }

    /// <summary>The shared access policies of a DPS with their keys (provisioningserviceowner first).</summary>
    public async Task<IReadOnlyList<AccessPolicyInfo>> ListProvisioningServiceKeysAsync(string resourceGroup, string name, CancellationToken cancellationToken = default)
    {
        var id = await requests.ProvisioningServiceIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        var items = await requests.ListAsync($"{id}/listkeys", ArmApiVersions.ProvisioningServices, $"list the keys of DPS '{name}'", cancellationToken, RequestMethod.Post).ConfigureAwait(false);
        return items.Select(ArmJson.Policy)
            .OrderByDescending(p => p.KeyName.Equals(AccessPolicyInfo.ProvisioningServiceOwner, StringComparison.OrdinalIgnoreCase))
            .ToList();
    }

    /// <summary>
    /// The service-API connection string of a DPS (HostName = its serviceOperationsHostName), for DpsServiceClient.
    /// </summary>
    public async Task<string> GetProvisioningServiceConnectionStringAsync(string resourceGroup, string name, string keyName = AccessPolicyInfo.ProvisioningServiceOwner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyName);
        var dps = (await ReadProvisioningServiceAsync(resourceGroup, name, required: true, cancellationToken).ConfigureAwait(false))!.Info;
        var keys = await ListProvisioningServiceKeysAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        var policy = keys.FirstOrDefault(k => k.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase))
            ?? throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Arm, 404,
                $"The DPS '{name}' has no shared access policy '{keyName}'; it has {string.Join(", ", keys.Select(k => k.KeyName))}.", "KeyNameNotFound"));
        return policy.ToConnectionString(dps.ServiceHost ?? throw new ProvisioningException($"The DPS '{name}' reports no service host name."));
    }

    /// <summary>Sets the allocation policy of a DPS (read-modify-write with the etag read just before).</summary>
    public Task<ProvisioningServiceInfo> UpdateAllocationPolicyAsync(string resourceGroup, string name, DpsAllocationPolicy policy, CancellationToken cancellationToken = default) =>
        ModifyProvisioningServiceAsync(resourceGroup, name, $"set the allocation policy of DPS '{name}' to {policy}",
            properties => properties["allocationPolicy"] = policy.ToString(), cancellationToken);

    /// <summary>
    /// Links an IoT hub to a DPS (or updates the link of that hub): reads the DPS with its etag, adds the hub to
    /// properties.iotHubs and writes it back with If-Match; if the DPS changed meanwhile, it reads again and repeats.
    /// </summary>
    public Task<ProvisioningServiceInfo> LinkIotHubAsync(string resourceGroup, string name, LinkIotHubOptions link, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(link);
        ArgumentException.ThrowIfNullOrWhiteSpace(link.ConnectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(link.Location);
        var host = ConnectionStrings.HostNameOf(link.ConnectionString)
            ?? throw new ArgumentException("The connection string has no HostName; use the hub's connection string from its listkeys.", nameof(link));
        if (link.AllocationWeight is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(link), link.AllocationWeight, "The allocation weight must be between 1 and 1000.");
        }

        return ModifyProvisioningServiceAsync(resourceGroup, name, $"link IoT hub '{host}' to DPS '{name}'", properties =>
        {
            var hubs = properties["iotHubs"] as JsonArray ?? [];
            properties["iotHubs"] = hubs;
            for (var i = hubs.Count - 1; i >= 0; i--)
            {
                if (hubs[i] is JsonObject existing && HostOf(existing) is { } existingHost && existingHost.Equals(host, StringComparison.OrdinalIgnoreCase))
                {
                    hubs.RemoveAt(i);
                }
            }

            hubs.Add(new JsonObject
            {
                ["connectionString"] = link.ConnectionString,
                ["location"] = link.Location,
                ["allocationWeight"] = link.AllocationWeight,
                ["applyAllocationPolicy"] = link.ApplyAllocationPolicy,
            });
        }, cancellationToken);
    }

    /// <summary>Removes the link to a hub (by host name); nothing changes if it was not linked.</summary>
    public Task<ProvisioningServiceInfo> UnlinkIotHubAsync(string resourceGroup, string name, string hubHostName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hubHostName);
        return ModifyProvisioningServiceAsync(resourceGroup, name, $"unlink IoT hub '{hubHostName}' from DPS '{name}'", properties =>
        {
            if (properties["iotHubs"] is not JsonArray hubs) return;
            for (var i = hubs.Count - 1; i >= 0; i--)
            {
                if (hubs[i] is JsonObject existing && HostOf(existing) is { } existingHost && existingHost.Equals(hubHostName, StringComparison.OrdinalIgnoreCase))
                {
                    hubs.RemoveAt(i);
                }
            }
        }, cancellationToken);
    }

    /// <summary>Deletes a DPS with everything it holds; returns false when it did not exist.</summary>
    public async Task<bool> DeleteProvisioningServiceAsync(string resourceGroup, string name, CancellationToken cancellationToken = default)
    {
        var id = await requests.ProvisioningServiceIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        return await requests.DeleteGenericAsync(id, $"delete DPS '{name}'", cancellationToken).ConfigureAwait(false);
    }

    private sealed record ServiceRead(ProvisioningServiceInfo Info, GenericResourceData Data, string? ETag, ResourceIdentifier Id);

    private async Task<ServiceRead?> ReadProvisioningServiceAsync(string resourceGroup, string name, bool required, CancellationToken cancellationToken)
    {
        var id = await requests.ProvisioningServiceIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        var action = $"read DPS '{name}'";
        var response = await requests.GetGenericAsync(id, action, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return required
                ? throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Arm, 404, $"Could not {action}: it does not exist in resource group '{resourceGroup}'.", "ResourceNotFound"))
                : null;
        }

        string? etag = null;
        var raw = response.GetRawResponse();
        try
        {
            using var document = JsonDocument.Parse(raw.Content.ToMemory());
            etag = ArmJson.Etag(document.RootElement);
        }
        catch (JsonException)
        {
        }

        etag ??= raw.Headers.ETag?.ToString();
        return new ServiceRead(ArmRequests.ProvisioningService(response.Value.Data), response.Value.Data, etag, id);
    }

    /// <summary>
    /// Read-modify-write of a DPS: GET (fresh etag), change properties, PUT with If-Match through ArmClient (so its
    /// LRO engine finishes the update). A 412 means someone else changed it: read again and re-apply.
    /// </summary>
    private async Task<ProvisioningServiceInfo> ModifyProvisioningServiceAsync(string resourceGroup, string name, string action, Action<JsonObject> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = (await ReadProvisioningServiceAsync(resourceGroup, name, required: true, cancellationToken).ConfigureAwait(false))!;
            var properties = current.Data.Properties is null ? new JsonObject() : JsonNode.Parse(current.Data.Properties.ToMemory().Span) as JsonObject ?? new JsonObject();
            change(properties);
            current.Data.Properties = BinaryData.FromString(properties.ToJsonString());
            try
            {
                using (current.ETag is null ? null : IfMatchPolicy.Scope(current.Id.ToString(), current.ETag))
                {
                    var operation = await ArmRequests.CallAsync(action, () => requests.Arm.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Completed, current.Id, current.Data, cancellationToken), cancellationToken).ConfigureAwait(false);
                    return ArmRequests.ProvisioningService(operation.Value.Data);
                }
            }
            catch (ResourceChangedException) when (attempt < ArmRequests.ConcurrencyAttempts)
            {
                // changed since our read: read again and re-apply the change
            }
        }
    }

    private static string? HostOf(JsonObject hub)
    {
        foreach (var field in new[] { "name", "hostName" })
        {
            if (hub[field] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0) return text;
        }

        return hub["connectionString"] is JsonValue cs && cs.TryGetValue<string>(out var connectionString) ? ConnectionStrings.HostNameOf(connectionString) : null;
    }
}
