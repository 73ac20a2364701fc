using System.Security.Cryptography.X509Certificates;
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
/// <remarks>
/// One entry point for callers (and one type to mock); the work is done by focused classes per kind of resource,
/// which all send through one <see cref="ArmRequests"/> so retries, etags and error mapping are the same everywhere.
/// </remarks>
public class ArmProvisioningClient
{
    private readonly ProvisioningConnection _connection = null!;
    private readonly ResourceGroupOperations _resourceGroups = null!;
    private readonly DpsResourceOperations _provisioningServices = null!;
    private readonly IotHubOperations _iotHubs = null!;
    private readonly DpsCertificateOperations _certificates = null!;

    /// <summary>For mocking.</summary>
    protected ArmProvisioningClient()
    {
    }

    public ArmProvisioningClient(ProvisioningConnection connection, ArmProvisioningClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        var requests = new ArmRequests(connection, options);
        _resourceGroups = new ResourceGroupOperations(requests);
        _provisioningServices = new DpsResourceOperations(requests);
        _iotHubs = new IotHubOperations(requests);
        _certificates = new DpsCertificateOperations(requests);
    }

    /// <summary>The connection this client uses.</summary>
    public virtual ProvisioningConnection Connection => _connection;

    // ---------------------------------------------------------------- subscriptions and resource groups

    /// <summary>The connection's subscription, or the first one the credential can see.</summary>
    public virtual Task<SubscriptionInfo> GetDefaultSubscriptionAsync(CancellationToken cancellationToken = default) =>
        _resourceGroups.GetDefaultSubscriptionAsync(cancellationToken);

    public virtual Task<IReadOnlyList<SubscriptionInfo>> ListSubscriptionsAsync(CancellationToken cancellationToken = default) =>
        _resourceGroups.ListSubscriptionsAsync(cancellationToken);

    public virtual Task<IReadOnlyList<ResourceGroupInfo>> ListResourceGroupsAsync(CancellationToken cancellationToken = default) =>
        _resourceGroups.ListResourceGroupsAsync(cancellationToken);

    /// <summary>The resource group, or null when it does not exist.</summary>
    public virtual Task<ResourceGroupInfo?> GetResourceGroupAsync(string name, CancellationToken cancellationToken = default) =>
        _resourceGroups.GetResourceGroupAsync(name, cancellationToken);

    public virtual Task<ResourceGroupInfo> CreateOrUpdateResourceGroupAsync(string name, string location, CancellationToken cancellationToken = default) =>
        _resourceGroups.CreateOrUpdateResourceGroupAsync(name, location, cancellationToken);

    // ---------------------------------------------------------------- Device Provisioning Services

    /// <summary>Whether a DPS name is free (DPS names are global: they form {name}.azure-devices-provisioning.net).</summary>
    public virtual Task<NameAvailabilityInfo> CheckProvisioningServiceNameAvailabilityAsync(string name, CancellationToken cancellationToken = default) =>
        _provisioningServices.CheckProvisioningServiceNameAvailabilityAsync(name, cancellationToken);

    /// <summary>Starts creating a DPS and returns at once with a handle to follow its progress.</summary>
    public virtual Task<ArmProvisioningOperation<ProvisioningServiceInfo>> StartCreateProvisioningServiceAsync(ProvisioningServiceCreateOptions options, CancellationToken cancellationToken = default) =>
        _provisioningServices.StartCreateProvisioningServiceAsync(options, cancellationToken);

    /// <summary>Creates a DPS and waits until ARM reports it done.</summary>
    public virtual Task<ProvisioningServiceInfo> CreateProvisioningServiceAsync(ProvisioningServiceCreateOptions options, CancellationToken cancellationToken = default) =>
        _provisioningServices.CreateProvisioningServiceAsync(options, cancellationToken);

    /// <summary>The DPS, or null when it (or its resource group) does not exist.</summary>
    public virtual Task<ProvisioningServiceInfo?> GetProvisioningServiceAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        _provisioningServices.GetProvisioningServiceAsync(resourceGroup, name, cancellationToken);

    /// <summary>The DPS instances of a resource group, or of the whole subscription when <paramref name="resourceGroup"/> is null.</summary>
    public virtual Task<IReadOnlyList<ProvisioningServiceInfo>> ListProvisioningServicesAsync(string? resourceGroup = null, CancellationToken cancellationToken = default) =>
        _provisioningServices.ListProvisioningServicesAsync(resourceGroup, cancellationToken);

    /// <summary>The shared access policies of a DPS with their keys (provisioningserviceowner first).</summary>
    public virtual Task<IReadOnlyList<AccessPolicyInfo>> ListProvisioningServiceKeysAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        _provisioningServices.ListProvisioningServiceKeysAsync(resourceGroup, name, cancellationToken);

    /// <summary>
    /// The service-API connection string of a DPS (HostName = its serviceOperationsHostName), for DpsServiceClient.
    /// </summary>
    public virtual Task<string> GetProvisioningServiceConnectionStringAsync(string resourceGroup, string name, string keyName = AccessPolicyInfo.ProvisioningServiceOwner, CancellationToken cancellationToken = default) =>
        _provisioningServices.GetProvisioningServiceConnectionStringAsync(resourceGroup, name, keyName, cancellationToken);

    /// <summary>Sets the allocation policy of a DPS (read-modify-write with the etag read just before).</summary>
    public virtual Task<ProvisioningServiceInfo> UpdateAllocationPolicyAsync(string resourceGroup, string name, DpsAllocationPolicy policy, CancellationToken cancellationToken = default) =>
        _provisioningServices.UpdateAllocationPolicyAsync(resourceGroup, name, policy, cancellationToken);

    /// <summary>
    /// Links an IoT hub to a DPS (or updates the link of that hub): reads the DPS with its etag, adds the hub to
    /// properties.iotHubs and writes it back with If-Match; if the DPS changed meanwhile, it reads again and repeats.
    /// </summary>
    public virtual Task<ProvisioningServiceInfo> LinkIotHubAsync(string resourceGroup, string name, LinkIotHubOptions link, CancellationToken cancellationToken = default) =>
        _provisioningServices.LinkIotHubAsync(resourceGroup, name, link, cancellationToken);

    /// <summary>Removes the link to a hub (by host name); nothing changes if it was not linked.</summary>
    public virtual Task<ProvisioningServiceInfo> UnlinkIotHubAsync(string resourceGroup, string name, string hubHostName, CancellationToken cancellationToken = default) =>
        _provisioningServices.UnlinkIotHubAsync(resourceGroup, name, hubHostName, cancellationToken);

    /// <summary>Deletes a DPS with everything it holds; returns false when it did not exist.</summary>
    public virtual Task<bool> DeleteProvisioningServiceAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        _provisioningServices.DeleteProvisioningServiceAsync(resourceGroup, name, cancellationToken);

    // ---------------------------------------------------------------- IoT hubs

    public virtual Task<IReadOnlyList<IotHubInfo>> ListIotHubsAsync(string? resourceGroup = null, CancellationToken cancellationToken = default) =>
        _iotHubs.ListIotHubsAsync(resourceGroup, cancellationToken);

    /// <summary>The hub, or null when it (or its resource group) does not exist.</summary>
    public virtual Task<IotHubInfo?> GetIotHubAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        _iotHubs.GetIotHubAsync(resourceGroup, name, cancellationToken);

    public virtual Task<ArmProvisioningOperation<IotHubInfo>> StartCreateIotHubAsync(IotHubCreateOptions options, CancellationToken cancellationToken = default) =>
        _iotHubs.StartCreateIotHubAsync(options, cancellationToken);

    public virtual Task<IotHubInfo> CreateIotHubAsync(IotHubCreateOptions options, CancellationToken cancellationToken = default) =>
        _iotHubs.CreateIotHubAsync(options, cancellationToken);

    /// <summary>All shared access policies of a hub, with keys.</summary>
    public virtual Task<IReadOnlyList<AccessPolicyInfo>> ListIotHubKeysAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        _iotHubs.ListIotHubKeysAsync(resourceGroup, name, cancellationToken);

    /// <summary>The hub policies DPS can link with (RegistryWrite and ServiceConnect), iothubowner first.</summary>
    public virtual Task<IReadOnlyList<AccessPolicyInfo>> ListIotHubProvisioningPoliciesAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        _iotHubs.ListIotHubProvisioningPoliciesAsync(resourceGroup, name, cancellationToken);

    /// <summary>Keeps the policies with RegistryWrite and ServiceConnect (what DPS needs on a linked hub), iothubowner first.</summary>
    public static IReadOnlyList<AccessPolicyInfo> SelectProvisioningPolicies(IEnumerable<AccessPolicyInfo> policies) =>
        IotHubOperations.SelectProvisioningPolicies(policies);

    /// <summary>
    /// The hub's connection string for linking it to a DPS: the named policy, or the first that can provision
    /// devices (iothubowner when present).
    /// </summary>
    public virtual Task<string> GetIotHubConnectionStringAsync(string resourceGroup, string name, string? keyName = null, CancellationToken cancellationToken = default) =>
        _iotHubs.GetIotHubConnectionStringAsync(resourceGroup, name, keyName, cancellationToken);

    public virtual Task<bool> DeleteIotHubAsync(string resourceGroup, string name, CancellationToken cancellationToken = default) =>
        _iotHubs.DeleteIotHubAsync(resourceGroup, name, cancellationToken);

    // ---------------------------------------------------------------- DPS certificates

    /// <summary>
    /// Uploads a CA certificate (public part only) to a DPS, or replaces the one with that name (with its current
    /// etag). <paramref name="isVerified"/> true skips proof of possession; prefer verifying.
    /// </summary>
    public virtual Task<DpsCertificateInfo> UploadCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, X509Certificate2 certificate, bool isVerified = false, CancellationToken cancellationToken = default) =>
        _certificates.UploadCertificateAsync(resourceGroup, provisioningServiceName, certificateName, certificate, isVerified, cancellationToken);

    /// <summary>The certificate, or null when it does not exist.</summary>
    public virtual Task<DpsCertificateInfo?> GetCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken = default) =>
        _certificates.GetCertificateAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken);

    public virtual Task<IReadOnlyList<DpsCertificateInfo>> ListCertificatesAsync(string resourceGroup, string provisioningServiceName, CancellationToken cancellationToken = default) =>
        _certificates.ListCertificatesAsync(resourceGroup, provisioningServiceName, cancellationToken);

    /// <summary>Deletes a certificate (its etag is read first); returns false when it did not exist.</summary>
    public virtual Task<bool> DeleteCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken = default) =>
        _certificates.DeleteCertificateAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken);

    /// <summary>
    /// Generates a proof-of-possession code for a certificate (with the etag read just before). Issue a certificate
    /// with this code as its CN, signed by the CA's key, and pass it to <see cref="VerifyCertificateAsync"/>.
    /// </summary>
    public virtual Task<DpsVerificationCode> GenerateVerificationCodeAsync(string resourceGroup, string provisioningServiceName, string certificateName, CancellationToken cancellationToken = default) =>
        _certificates.GenerateVerificationCodeAsync(resourceGroup, provisioningServiceName, certificateName, cancellationToken);

    /// <summary>
    /// Completes proof of possession with a certificate whose CN is the current verification code, signed by the CA.
    /// The etag is read just before; if the certificate changed in between, it is read again and verification repeated once.
    /// </summary>
    public virtual Task<DpsCertificateInfo> VerifyCertificateAsync(string resourceGroup, string provisioningServiceName, string certificateName, X509Certificate2 verificationCertificate, CancellationToken cancellationToken = default) =>
        _certificates.VerifyCertificateAsync(resourceGroup, provisioningServiceName, certificateName, verificationCertificate, cancellationToken);
}
