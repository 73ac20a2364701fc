namespace CheeseCave.Provisioning.Configuration;

/// <summary>Where the clients send their calls. Only the <see cref="ProvisioningConnection"/> differs; the client code is the same.</summary>
public enum ProvisioningTarget
{
    /// <summary>The embedded CheeseCave emulator (the default): one local HTTPS endpoint plus MQTT, trusted through its own CA only.</summary>
    Emulator,

    /// <summary>Azure public cloud: management.azure.com with an Entra ID credential, the real DPS hosts, system certificate trust.</summary>
    Azure,
}
