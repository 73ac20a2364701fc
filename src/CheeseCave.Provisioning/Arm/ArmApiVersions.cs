using Azure.Core;
using Azure.ResourceManager;

namespace CheeseCave.Provisioning.Arm;

/// <summary>
/// The pinned ARM api-versions, in one place. Pinned because GenericResource would otherwise take the first version
/// the provider metadata lists (which may be a preview, or not deployed in the region; docs/user-pitfalls.md §6.1).
/// </summary>
public static class ArmApiVersions
{
    /// <summary>Microsoft.Devices/provisioningServices and its certificates (docs/azure-wire.md §1-2).</summary>
    public const string ProvisioningServices = "2022-02-05";

    /// <summary>Microsoft.Devices/IotHubs (docs/azure-wire.md §3).</summary>
    public const string IotHubs = "2023-06-30";

    public const string ProviderNamespace = "Microsoft.Devices";

    public static readonly ResourceType ProvisioningServiceType = new("Microsoft.Devices/provisioningServices");

    public static readonly ResourceType DpsCertificateType = new("Microsoft.Devices/provisioningServices/certificates");

    public static readonly ResourceType IotHubType = new("Microsoft.Devices/IotHubs");

    /// <summary>Pins every Microsoft.Devices type this library touches, so ArmClient never looks versions up.</summary>
    internal static void Pin(ArmClientOptions options)
    {
        options.SetApiVersion(ProvisioningServiceType, ProvisioningServices);
        options.SetApiVersion(DpsCertificateType, ProvisioningServices);
        options.SetApiVersion(IotHubType, IotHubs);
    }
}
