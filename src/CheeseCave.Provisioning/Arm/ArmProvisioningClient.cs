using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.ResourceManager;
using Azure.ResourceManager.Resources;
using Azure.ResourceManager.Resources.Models;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.Arm;

/// <summary>
/// Azure Resource Manager for the cheese-cave setup: subscriptions, resource groups, DPS (create with progress, link
/// hubs, allocation policy, keys), DPS CA certificates (upload, proof of possession) and IoT hubs. Built on
/// Azure.ResourceManager's ArmClient (GenericResource with pinned api-versions, see <see cref="ArmApiVersions"/>) and
/// its HttpPipeline for POST actions. Etags are read fresh inside each method and never returned. Failures are
/// <see cref="ProvisioningException"/>; transient ones were already retried by Azure.Core's retry policy.
/// </summary>
public class ArmProvisioningClient
{
    private const int ConcurrencyAttempts = 3;

    private readonly ArmClient _arm = null!;
    private readonly HttpPipeline _pipeline = null!;
    private readonly ProvisioningConnection _connection = null!;
    private readonly ArmProvisioningClientOptions _options = null!;
    private readonly string _endpoint = string.Empty;
    private string? _subscriptionId;

    /// <summary>For mocking.</summary>
    protected ArmProvisioningClient()
    {
    }

    public ArmProvisioningClient(ProvisioningConnection connection, ArmProvisioningClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _options = options ?? new ArmProvisioningClientOptions();
        _options.Retry.Validate();
        _subscriptionId = connection.SubscriptionId;
        _endpoint = connection.ArmEnvironment.Endpoint.AbsoluteUri.TrimEnd('/');

        var armOptions = new ArmClientOptions { Environment = connection.ArmEnvironment };
        armOptions.Diagnostics.ApplicationId = "CheeseCave";
        armOptions.Retry.Mode = RetryMode.Exponential;
        armOptions.Retry.MaxRetries = _options.Retry.MaxRetries;
        armOptions.Retry.Delay = _options.Retry.Delay;
        armOptions.Retry.MaxDelay = _options.Retry.MaxDelay;
        armOptions.Retry.NetworkTimeout = _options.Retry.NetworkTimeout;
        ArmApiVersions.Pin(armOptions);
        armOptions.AddPolicy(new IfMatchPolicy(), HttpPipelinePosition.PerCall);
        if (connection.TrustedRoots is not null || _options.WrapHandler is not null)
        {
            // The emulator: a handler that trusts only its CA. Azure keeps Azure.Core's default transport.
            var handler = connection.CreateHttpMessageHandler();
            armOptions.Transport = new HttpClientTransport(_options.WrapHandler?.Invoke(handler) ?? handler);
        }

        _arm = new ArmClient(connection.Credential, connection.SubscriptionId, armOptions);
        _pipeline = new ArmPipelineAccess(_arm).HttpPipeline;
    }

    /// <summary>The connection this client uses.</summary>
    public virtual ProvisioningConnection Connection => _connection;

    // ---------------------------------------------------------------- subscriptions and resource groups

    /// <summary>The connection's subscription, or the first one the credential can see.</summary>
    public virtual Task<SubscriptionInfo> GetDefaultSubscriptionAsync(CancellationToken cancellationToken = default) =>
        CallAsync("read the default subscription", async () =>
        {
            var subscription = await _arm.GetDefaultSubscriptionAsync(cancellationToken).ConfigureAwait(false);
            _subscriptionId ??= subscription.Data.SubscriptionId;
            return Subscription(subscription.Data);
        }, cancellationToken);

    public virtual Task<IReadOnlyList<SubscriptionInfo>> ListSubscriptionsAsync(CancellationToken cancellationToken = default) =>
        CallAsync("list the subscriptions", async () =>
        {
            var result = new List<SubscriptionInfo>();
            await foreach (var subscription in _arm.GetSubscriptions().GetAllAsync(cancellationToken).ConfigureAwait(false))
            {
                result.Add(Subscription(subscription.Data));
            }

            return (IReadOnlyList<SubscriptionInfo>)result;
        }, cancellationToken);

    public virtual Task<IReadOnlyList<ResourceGroupInfo>> ListResourceGroupsAsync(CancellationToken cancellationToken = default) =>
        CallAsync("list the resource groups", async () =>
        {
            var subscription = await SubscriptionAsync(cancellationToken).ConfigureAwait(false);
            var result = new List<ResourceGroupInfo>();
            await foreach (var group in subscription.GetResourceGroups().GetAllAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                result.Add(ResourceGroup(group.Data));
            }

            return (IReadOnlyList<ResourceGroupInfo>)result;
        }, cancellationToken);

    /// <summary>The resource group, or null when it does not exist.</summary>
    public virtual Task<ResourceGroupInfo?> GetResourceGroupAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return CallAsync($"read resource group '{name}'", async () =>
        {
            var subscription = await SubscriptionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var response = await subscription.GetResourceGroups().GetAsync(name, cancellationToken).ConfigureAwait(false);
                return ResourceGroup(response.Value.Data);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return null;
            }
        }, cancellationToken);
    }

    public virtual Task<ResourceGroupInfo> CreateOrUpdateResourceGroupAsync(string name, string location, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        return CallAsync($"create resource group '{name}'", async () =>
        {
            var subscription = await SubscriptionAsync(cancellationToken).ConfigureAwait(false);
            var operation = await subscription.GetResourceGroups()
                .CreateOrUpdateAsync(WaitUntil.Completed, name, new ResourceGroupData(new AzureLocation(location)), cancellationToken).ConfigureAwait(false);
            return ResourceGroup(operation.Value.Data);
        }, cancellationToken);
    }

    // ---------------------------------------------------------------- Device Provisioning Services

    /// <summary>Whether a DPS name is free (DPS names are global: they form {name}.azure-devices-provisioning.net).</summary>
    public virtual async Task<NameAvailabilityInfo> CheckProvisioningServiceNameAvailabilityAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var subscriptionId = await SubscriptionIdAsync(cancellationToken).ConfigureAwait(false);
        using var body = await SendAsync(RequestMethod.Post,
            $"/subscriptions/{subscriptionId}/providers/{ArmApiVersions.ProviderNamespace}/checkProvisioningServiceNameAvailability",
            ArmApiVersions.ProvisioningServices, new JsonObject { ["name"] = name }, null, $"check whether the DPS name '{name}' is available", false, cancellationToken).ConfigureAwait(false);
        var root = body!.RootElement;
        return new NameAvailabilityInfo(ArmJson.Bool(root, "nameAvailable") ?? false, ArmJson.Str(root, "reason"), ArmJson.Str(root, "message"));
    }

    /// <summary>Starts creating a DPS and returns at once with a handle to follow its progress.</summary>
    public virtual async Task<ArmProvisioningOperation<ProvisioningServiceInfo>> StartCreateProvisioningServiceAsync(ProvisioningServiceCreateOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ResourceGroup);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Name);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Location);
        var id = await ProvisioningServiceIdAsync(options.ResourceGroup, options.Name, cancellationToken).ConfigureAwait(false);
        var data = new GenericResourceData(new AzureLocation(options.Location))
        {
            Sku = new ResourcesSku { Name = "S1", Capacity = checked((int)options.SkuCapacity) },
            Properties = BinaryData.FromString(new JsonObject { ["allocationPolicy"] = options.AllocationPolicy.ToString() }.ToJsonString()),
        };
        AddTags(data, options.Tags);
        var action = $"create DPS '{options.Name}'";
        var operation = await CallAsync(action, () => _arm.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Started, id, data, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new ArmProvisioningOperation<ProvisioningServiceInfo>(operation, ProvisioningService, action, _options.TimeProvider, _options.OperationPollInterval);
    }

    /// <summary>Creates a DPS and waits until ARM reports it done.</summary>
    public virtual async Task<ProvisioningServiceInfo> CreateProvisioningServiceAsync(ProvisioningServiceCreateOptions options, CancellationToken cancellationToken = default)
    {
        var operation = await StartCreateProvisioningServiceAsync(options, cancellationToken).ConfigureAwait(false);
        return await operation.WaitForCompletionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The DPS, or null when it (or its resource group) does not exist.</summary>
    public virtual async Task<ProvisioningServiceInfo?> GetProvisioningServiceAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        (await ReadProvisioningServiceAsync(resourceGroup, name, required: false, cancellationToken).ConfigureAwait(false))?.Info;

    /// <summary>The DPS instances of a resource group, or of the whole subscription when <paramref name="resourceGroup"/> is null.</summary>
    public virtual async Task<IReadOnlyList<ProvisioningServiceInfo>> ListProvisioningServicesAsync(string? resourceGroup = null, CancellationToken cancellationToken = default)
    {
        var items = await ListAsync(await ProviderPathAsync(resourceGroup, "provisioningServices", cancellationToken).ConfigureAwait(false),
            ArmApiVersions.ProvisioningServices, "list the provisioning services", cancellationToken).ConfigureAwait(false);
        return items.Select(ArmJson.ProvisioningService).ToList();
    }

    /// <summary>The shared access policies of a DPS with their keys (provisioningserviceowner first).</summary>
    public virtual async Task<IReadOnlyList<AccessPolicyInfo>> ListProvisioningServiceKeysAsync(string resourceGroup, string name, CancellationToken cancellationToken = default)
    {
        var id = await ProvisioningServiceIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        var items = await ListAsync($"{id}/listkeys", ArmApiVersions.ProvisioningServices, $"list the keys of DPS '{name}'", cancellationToken, RequestMethod.Post).ConfigureAwait(false);
        return items.Select(ArmJson.Policy)
            .OrderByDescending(p => p.KeyName.Equals(AccessPolicyInfo.ProvisioningServiceOwner, StringComparison.OrdinalIgnoreCase))
            .ToList();
    }

    /// <summary>
    /// The service-API connection string of a DPS (HostName = its serviceOperationsHostName), for DpsServiceClient.
    /// </summary>
    public virtual async Task<string> GetProvisioningServiceConnectionStringAsync(string resourceGroup, string name, string keyName = AccessPolicyInfo.ProvisioningServiceOwner, CancellationToken cancellationToken = default)
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
    public virtual Task<ProvisioningServiceInfo> UpdateAllocationPolicyAsync(string resourceGroup, string name, DpsAllocationPolicy policy, CancellationToken cancellationToken = default) =>
        ModifyProvisioningServiceAsync(resourceGroup, name, $"set the allocation policy of DPS '{name}' to {policy}",
            properties => properties["allocationPolicy"] = policy.ToString(), cancellationToken);

    /// <summary>
    /// Links an IoT hub to a DPS (or updates the link of that hub): reads the DPS with its etag, adds the hub to
    /// properties.iotHubs and writes it back with If-Match; if the DPS changed meanwhile, it reads again and repeats.
    /// </summary>
    public virtual Task<ProvisioningServiceInfo> LinkIotHubAsync(string resourceGroup, string name, LinkIotHubOptions link, CancellationToken cancellationToken = default)
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
    public virtual Task<ProvisioningServiceInfo> UnlinkIotHubAsync(string resourceGroup, string name, string hubHostName, CancellationToken cancellationToken = default)
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
    public virtual async Task<bool> DeleteProvisioningServiceAsync(string resourceGroup, string name, CancellationToken cancellationToken = default)
    {
        var id = await ProvisioningServiceIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        return await DeleteGenericAsync(id, $"delete DPS '{name}'", cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- IoT hubs

    public virtual async Task<IReadOnlyList<IotHubInfo>> ListIotHubsAsync(string? resourceGroup = null, CancellationToken cancellationToken = default)
    {
        var items = await ListAsync(await ProviderPathAsync(resourceGroup, "IotHubs", cancellationToken).ConfigureAwait(false),
            ArmApiVersions.IotHubs, "list the IoT hubs", cancellationToken).ConfigureAwait(false);
        return items.Select(ArmJson.IotHub).ToList();
    }

    /// <summary>The hub, or null when it (or its resource group) does not exist.</summary>
    public virtual async Task<IotHubInfo?> GetIotHubAsync(string resourceGroup, string name, CancellationToken cancellationToken = default)
    {
        var id = await IotHubIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        var response = await GetGenericAsync(id, $"read IoT hub '{name}'", cancellationToken).ConfigureAwait(false);
        return response is null ? null : IotHub(response.Value.Data);
    }

    public virtual async Task<ArmProvisioningOperation<IotHubInfo>> StartCreateIotHubAsync(IotHubCreateOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ResourceGroup);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Name);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Location);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.SkuName);
        var id = await IotHubIdAsync(options.ResourceGroup, options.Name, cancellationToken).ConfigureAwait(false);
        var data = new GenericResourceData(new AzureLocation(options.Location))
        {
            Sku = new ResourcesSku { Name = options.SkuName, Capacity = checked((int)options.SkuCapacity) },
            Properties = BinaryData.FromString("{}"),
        };
        AddTags(data, options.Tags);
        var action = $"create IoT hub '{options.Name}'";
        var operation = await CallAsync(action, () => _arm.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Started, id, data, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new ArmProvisioningOperation<IotHubInfo>(operation, IotHub, action, _options.TimeProvider, _options.OperationPollInterval);
    }

    public virtual async Task<IotHubInfo> CreateIotHubAsync(IotHubCreateOptions options, CancellationToken cancellationToken = default)
    {
        var operation = await StartCreateIotHubAsync(options, cancellationToken).ConfigureAwait(false);
        return await operation.WaitForCompletionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>All shared access policies of a hub, with keys.</summary>
    public virtual async Task<IReadOnlyList<AccessPolicyInfo>> ListIotHubKeysAsync(string resourceGroup, string name, CancellationToken cancellationToken = default)
    {
        var id = await IotHubIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        var items = await ListAsync($"{id}/listkeys", ArmApiVersions.IotHubs, $"list the keys of IoT hub '{name}'", cancellationToken, RequestMethod.Post).ConfigureAwait(false);
        return items.Select(ArmJson.Policy).ToList();
    }

    /// <summary>The hub policies DPS can link with (RegistryWrite and ServiceConnect), iothubowner first.</summary>
    public virtual async Task<IReadOnlyList<AccessPolicyInfo>> ListIotHubProvisioningPoliciesAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
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
    public virtual async Task<string> GetIotHubConnectionStringAsync(string resourceGroup, string name, string? keyName = null, CancellationToken cancellationToken = default)
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

    public virtual async Task<bool> DeleteIotHubAsync(string resourceGroup, string name, CancellationToken cancellationToken = default)
    {
        var id = await IotHubIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        return await DeleteGenericAsync(id, $"delete IoT hub '{name}'", cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- DPS certificates

    /// <summary>
    /// Uploads a CA certificate (public part only) to a DPS, or replaces the one with that name (with its current
    /// etag). <paramref name="isVerified"/> true skips proof of possession; prefer verifying.
    /// </summary>
    public virtual async Task<DpsCertificateInfo> UploadCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, X509Certificate2 certificate, bool isVerified = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var path = await CertificatePathAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken).ConfigureAwait(false);
        var body = new JsonObject { ["certificate"] = Convert.ToBase64String(certificate.RawData), ["isVerified"] = isVerified };
        var action = $"upload certificate '{certificateName}' to DPS '{provisioningServiceName}'";
        return await WithFreshEtagAsync(path, action, allowMissing: true, async etag =>
        {
            using var document = await SendAsync(RequestMethod.Put, path, ArmApiVersions.ProvisioningServices, body, etag, action, false, cancellationToken).ConfigureAwait(false);
            return ArmJson.Certificate(document!.RootElement);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The certificate, or null when it does not exist.</summary>
    public virtual async Task<DpsCertificateInfo?> GetCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken = default)
    {
        var path = await CertificatePathAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken).ConfigureAwait(false);
        using var document = await SendAsync(RequestMethod.Get, path, ArmApiVersions.ProvisioningServices, null, null,
            $"read certificate '{certificateName}' of DPS '{provisioningServiceName}'", true, cancellationToken).ConfigureAwait(false);
        return document is null ? null : ArmJson.Certificate(document.RootElement);
    }

    public virtual async Task<IReadOnlyList<DpsCertificateInfo>> ListCertificatesAsync(string resourceGroup, string provisioningServiceName, CancellationToken cancellationToken = default)
    {
        var id = await ProvisioningServiceIdAsync(resourceGroup, provisioningServiceName, cancellationToken).ConfigureAwait(false);
        var items = await ListAsync($"{id}/certificates", ArmApiVersions.ProvisioningServices, $"list the certificates of DPS '{provisioningServiceName}'", cancellationToken).ConfigureAwait(false);
        return items.Select(ArmJson.Certificate).ToList();
    }

    /// <summary>Deletes a certificate (its etag is read first); returns false when it did not exist.</summary>
    public virtual async Task<bool> DeleteCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken = default)
    {
        var path = await CertificatePathAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken).ConfigureAwait(false);
        var action = $"delete certificate '{certificateName}' of DPS '{provisioningServiceName}'";
        return await WithFreshEtagAsync(path, action, allowMissing: true, async etag =>
        {
            if (etag is null) return false;
            using var _ = await SendAsync(RequestMethod.Delete, path, ArmApiVersions.ProvisioningServices, null, etag, action, false, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Generates a proof-of-possession code for a certificate (with the etag read just before). Issue a certificate
    /// with this code as its CN, signed by the CA's key, and pass it to <see cref="VerifyCertificateAsync"/>.
    /// </summary>
    public virtual async Task<DpsVerificationCode> GenerateVerificationCodeAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken = default)
    {
        var path = await CertificatePathAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken).ConfigureAwait(false);
        var action = $"generate a verification code for certificate '{certificateName}' of DPS '{provisioningServiceName}'";
        return await WithFreshEtagAsync(path, action, allowMissing: false, async etag =>
        {
            using var document = await SendAsync(RequestMethod.Post, $"{path}/generateVerificationCode", ArmApiVersions.ProvisioningServices, null, etag, action, false, cancellationToken).ConfigureAwait(false);
            var root = document!.RootElement;
            var properties = ArmJson.Prop(root, "properties") ?? default;
            var code = ArmJson.Str(properties, "verificationCode")
                ?? throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Arm, 200, $"Could not {action}: the answer has no verification code."));
            return new DpsVerificationCode(code, ArmJson.Certificate(root));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Completes proof of possession with a certificate whose CN is the current verification code, signed by the CA.
    /// The etag is read just before; if the certificate changed in between, it is read again and verification repeated once.
    /// </summary>
    public virtual async Task<DpsCertificateInfo> VerifyCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, X509Certificate2 verificationCertificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verificationCertificate);
        var path = await CertificatePathAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken).ConfigureAwait(false);
        var action = $"verify certificate '{certificateName}' of DPS '{provisioningServiceName}'";
        var body = new JsonObject { ["certificate"] = Convert.ToBase64String(verificationCertificate.RawData) };
        return await WithFreshEtagAsync(path, action, allowMissing: false, async etag =>
        {
            using var document = await SendAsync(RequestMethod.Post, $"{path}/verify", ArmApiVersions.ProvisioningServices, body, etag, action, false, cancellationToken).ConfigureAwait(false);
            return ArmJson.Certificate(document!.RootElement);
        }, cancellationToken, attempts: 2).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- plumbing

    private async Task<SubscriptionResource> SubscriptionAsync(CancellationToken cancellationToken)
    {
        var id = await SubscriptionIdAsync(cancellationToken).ConfigureAwait(false);
        return _arm.GetSubscriptionResource(SubscriptionResource.CreateResourceIdentifier(id));
    }

    private async Task<string> SubscriptionIdAsync(CancellationToken cancellationToken) =>
        _subscriptionId ??= (await GetDefaultSubscriptionAsync(cancellationToken).ConfigureAwait(false)).SubscriptionId;

    private async Task<ResourceIdentifier> ProvisioningServiceIdAsync(string resourceGroup, string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceGroup);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var subscriptionId = await SubscriptionIdAsync(cancellationToken).ConfigureAwait(false);
        return new ResourceIdentifier($"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{ArmApiVersions.ProvisioningServiceType}/{name}");
    }

    private async Task<ResourceIdentifier> IotHubIdAsync(string resourceGroup, string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceGroup);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var subscriptionId = await SubscriptionIdAsync(cancellationToken).ConfigureAwait(false);
        return new ResourceIdentifier($"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{ArmApiVersions.IotHubType}/{name}");
    }

    private async Task<string> CertificatePathAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(certificateName);
        var id = await ProvisioningServiceIdAsync(resourceGroup, provisioningServiceName, cancellationToken).ConfigureAwait(false);
        return $"{id}/certificates/{Uri.EscapeDataString(certificateName)}";
    }

    private async Task<string> ProviderPathAsync(string? resourceGroup, string type, CancellationToken cancellationToken)
    {
        var subscriptionId = await SubscriptionIdAsync(cancellationToken).ConfigureAwait(false);
        return resourceGroup is null
            ? $"/subscriptions/{subscriptionId}/providers/{ArmApiVersions.ProviderNamespace}/{type}"
            : $"/subscriptions/{subscriptionId}/resourceGroups/{Uri.EscapeDataString(resourceGroup)}/providers/{ArmApiVersions.ProviderNamespace}/{type}";
    }

    private sealed record ServiceRead(ProvisioningServiceInfo Info, GenericResourceData Data, string? ETag, ResourceIdentifier Id);

    private async Task<ServiceRead?> ReadProvisioningServiceAsync(string resourceGroup, string name, bool required, CancellationToken cancellationToken)
    {
        var id = await ProvisioningServiceIdAsync(resourceGroup, name, cancellationToken).ConfigureAwait(false);
        var action = $"read DPS '{name}'";
        var response = await GetGenericAsync(id, action, cancellationToken).ConfigureAwait(false);
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
        return new ServiceRead(ProvisioningService(response.Value.Data), response.Value.Data, etag, id);
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
                    var operation = await CallAsync(action, () => _arm.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Completed, current.Id, current.Data, cancellationToken), cancellationToken).ConfigureAwait(false);
                    return ProvisioningService(operation.Value.Data);
                }
            }
            catch (ResourceChangedException) when (attempt < ConcurrencyAttempts)
            {
                // changed since our read: read again and re-apply the change
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/> with the resource's etag read just before (null when it does not exist and that
    /// is allowed). On 412 (changed in between) it reads again and repeats, up to <paramref name="attempts"/> times.
    /// </summary>
    private async Task<T> WithFreshEtagAsync<T>(string path, string action, bool allowMissing, Func<string?, Task<T>> write, CancellationToken cancellationToken, int attempts = ConcurrencyAttempts)
    {
        for (var attempt = 1; ; attempt++)
        {
            string? etag;
            using (var document = await SendAsync(RequestMethod.Get, path, ArmApiVersions.ProvisioningServices, null, null, action, allowMissing, cancellationToken).ConfigureAwait(false))
            {
                etag = document is null ? null : ArmJson.Etag(document.RootElement) ?? "*";
            }

            try
            {
                return await write(etag).ConfigureAwait(false);
            }
            catch (ResourceChangedException) when (attempt < attempts)
            {
                // the etag went stale between our read and our write: read again
            }
        }
    }

    private async Task<Response<GenericResource>?> GetGenericAsync(ResourceIdentifier id, string action, CancellationToken cancellationToken)
    {
        try
        {
            return await _arm.GetGenericResource(id).GetAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ProvisioningErrorClassifier.FromException(ProvisioningSurface.Arm, ex, null, action) is { } mapped)
        {
            throw mapped;
        }
    }

    private async Task<bool> DeleteGenericAsync(ResourceIdentifier id, string action, CancellationToken cancellationToken)
    {
        if (await GetGenericAsync(id, action, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        await CallAsync(action, () => _arm.GetGenericResource(id).DeleteAsync(WaitUntil.Completed, cancellationToken), cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static async Task<T> CallAsync<T>(string action, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not ProvisioningException && ProvisioningErrorClassifier.FromException(ProvisioningSurface.Arm, ex, null, action) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>
    /// One request through the ArmClient's pipeline (bearer token, retries, transport). Returns the JSON body, null
    /// for 404 when <paramref name="allowNotFound"/> or for an empty body; other failures throw.
    /// </summary>
    private async Task<JsonDocument?> SendAsync(RequestMethod method, string pathOrUrl, string apiVersion, JsonNode? body, string? ifMatch, string action, bool allowNotFound, CancellationToken cancellationToken)
    {
        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        var url = pathOrUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? pathOrUrl : _endpoint + pathOrUrl;
        if (!url.Contains("api-version=", StringComparison.OrdinalIgnoreCase))
        {
            url += (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "api-version=" + Uri.EscapeDataString(apiVersion);
        }

        request.Uri.Reset(new Uri(url));
        request.Headers.Add("Accept", "application/json");
        if (ifMatch is not null)
        {
            request.Headers.Add("If-Match", ifMatch);
        }

        if (body is not null)
        {
            request.Headers.Add("Content-Type", "application/json");
            request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
        }
        else if (method == RequestMethod.Post)
        {
            request.Content = RequestContent.Create(BinaryData.FromString(string.Empty));
        }

        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ProvisioningErrorClassifier.FromException(ProvisioningSurface.Arm, ex, request.ClientRequestId, action) is { } mapped)
        {
            throw mapped;
        }

        var response = message.Response;
        if (response.Status == 404 && allowNotFound)
        {
            return null;
        }

        if (response.Status >= 300)
        {
            throw ProvisioningErrorClassifier.FromResponse(ProvisioningSurface.Arm, response.Status, response.Content?.ToString(),
                name => response.Headers.TryGetValue(name, out var value) ? value : null, response.ClientRequestId, action);
        }

        var content = response.Content?.ToMemory() ?? ReadOnlyMemory<byte>.Empty;
        return content.IsEmpty ? null : JsonDocument.Parse(content);
    }

    /// <summary>Follows nextLink through every page of an ARM list ({value, nextLink}).</summary>
    private async Task<List<JsonElement>> ListAsync(string path, string apiVersion, string action, CancellationToken cancellationToken, RequestMethod? method = null)
    {
        var items = new List<JsonElement>();
        string? next = path;
        var first = true;
        while (next is not null)
        {
            using var document = await SendAsync(first ? method ?? RequestMethod.Get : RequestMethod.Get, next, apiVersion, null, null, action, false, cancellationToken).ConfigureAwait(false);
            first = false;
            next = null;
            if (document is null) break;
            if (ArmJson.Prop(document.RootElement, "value") is { ValueKind: JsonValueKind.Array } value)
            {
                items.AddRange(value.EnumerateArray().Select(e => e.Clone()));
            }

            next = ArmJson.Str(document.RootElement, "nextLink") is { Length: > 0 } link ? link : null;
        }

        return items;
    }

    private static string? HostOf(JsonObject hub)
    {
        foreach (var field in new[] { "name", "hostName" })
        {
            if (hub[field] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0) return text;
        }

        return hub["connectionString"] is JsonValue cs && cs.TryGetValue<string>(out var connectionString) ? ConnectionStrings.HostNameOf(connectionString) : null;
    }

    private static void AddTags(GenericResourceData data, IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null) return;
        foreach (var (key, value) in tags)
        {
            data.Tags[key] = value;
        }
    }

    private static JsonElement PropertiesOf(GenericResourceData data)
    {
        if (data.Properties is null) return default;
        using var document = JsonDocument.Parse(data.Properties.ToMemory());
        return document.RootElement.Clone();
    }

    private static ProvisioningServiceInfo ProvisioningService(GenericResourceData data) =>
        ArmJson.ProvisioningService(data.Name, data.Id?.ResourceGroupName, data.Location.Name, data.Sku?.Name, data.Sku?.Capacity, PropertiesOf(data));

    private static IotHubInfo IotHub(GenericResourceData data) =>
        ArmJson.IotHub(data.Name, data.Id?.ResourceGroupName, data.Location.Name, data.Sku?.Name, data.Sku?.Capacity, PropertiesOf(data));

    private static SubscriptionInfo Subscription(SubscriptionData data) =>
        new(data.SubscriptionId, data.DisplayName, data.TenantId?.ToString(), data.State?.ToString());

    private static ResourceGroupInfo ResourceGroup(ResourceGroupData data) =>
        new(data.Name, data.Location.Name, data.ResourceGroupProvisioningState);
}
