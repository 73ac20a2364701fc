using Azure.Core;
using Azure.Identity;
using Azure.ResourceManager;
using CheeseCave.Provisioning.Configuration;

namespace CheeseCave.Provisioning.Tests.Configuration;

/// <summary>What a connection points at: the Azure target and its credential, and the emulator only over HTTPS.</summary>
public sealed class ProvisioningConnectionTests
{
    [Fact]
    public void The_Azure_target_is_public_cloud_with_system_trust_and_the_given_credential()
    {
        var user = new StaticTokenCredential("signed-in-user-token");
        var azure = ProvisioningConnection.ForAzure(user, "11111111-2222-3333-4444-555555555555");
        Assert.Equal(ProvisioningTarget.Azure, azure.Target);
        Assert.Equal(ArmEnvironment.AzurePublicCloud, azure.ArmEnvironment);
        Assert.Same(user, azure.Credential);
        Assert.Null(azure.TrustedRoots);
        Assert.Equal("global.azure-devices-provisioning.net", azure.DeviceProvisioningHost);
        Assert.Equal("global.azure-devices-provisioning.net:8883", azure.MqttHost);
        Assert.Equal("11111111-2222-3333-4444-555555555555", azure.SubscriptionId);
        Assert.IsType<DefaultAzureCredential>(ProvisioningConnection.ForAzure().Credential);
        Assert.Equal("signed-in-user-token", user.GetToken(new TokenRequestContext(["https://management.azure.com//.default"]), default).Token);
        Assert.DoesNotContain("signed-in-user-token", user.ToString(), StringComparison.Ordinal);

        var http = Assert.Throws<ArgumentException>(() => ProvisioningConnection.ForEmulator(new EmulatorConnectionSettings
        {
            ArmEndpoint = new Uri("http://localhost:5543"), SubscriptionId = "s", BearerToken = "t", TrustBundlePem = "x",
        }));
        Assert.Contains("https", http.Message, StringComparison.Ordinal);
    }
}
