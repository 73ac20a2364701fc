using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.DpsService;

namespace CheeseCave.Provisioning.Tests.Arm;

/// <summary>Shared access policies and the connection strings made from them: keys never shown, DPS-capable hub policies picked.</summary>
public sealed class AccessPolicyTests
{
    [Fact]
    public void Connection_strings_and_policies_never_show_keys()
    {
        var policy = new AccessPolicyInfo("iothubowner", ["RegistryWrite", "ServiceConnect", "DeviceConnect"], "cHJpbWFyeQ==", "c2Vjb25kYXJ5");
        Assert.Equal("HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=cHJpbWFyeQ==", policy.ToConnectionString("h.azure-devices.net"));
        Assert.DoesNotContain("cHJpbWFyeQ==", policy.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("cHJpbWFyeQ==", new LinkIotHubOptions(policy.ToConnectionString("h"), "eastus").ToString(), StringComparison.Ordinal);

        var selected = ArmProvisioningClient.SelectProvisioningPolicies(
        [
            new AccessPolicyInfo("registryReadWrite", ["RegistryWrite"], "k", "k"),
            new AccessPolicyInfo("aaa-custom", ["RegistryWrite", "ServiceConnect"], "k", "k"),
            policy,
            new AccessPolicyInfo("service", ["ServiceConnect"], "k", "k"),
        ]);
        Assert.Equal(["iothubowner", "aaa-custom"], selected.Select(p => p.KeyName));

        Assert.Throws<FormatException>(() => DpsServiceConnectionString.Parse("HostName=x;SharedAccessKeyName=y"));
        Assert.Throws<FormatException>(() => DpsServiceConnectionString.Parse("HostName=x;SharedAccessKeyName=y;SharedAccessKey=not base64!"));
    }
}
