namespace CheeseCave.Portal.Hosting;

/// <summary>The <c>CheeseCave</c> configuration section.</summary>
public sealed class CheeseCaveOptions
{
    public const string SectionName = "CheeseCave";

    /// <summary>Where the portal keeps its data (relative paths are resolved against the content root).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>What the portal provisions against: the built-in emulator (default) or Azure.</summary>
    public ProvisioningTarget Target { get; set; } = ProvisioningTarget.Emulator;

    public EmbeddedEmulatorOptions Emulator { get; set; } = new();

    public string ResolveDataDirectory(string contentRoot) => Path.GetFullPath(DataDirectory, contentRoot);
}

public enum ProvisioningTarget
{
    Emulator,
    Azure,
}

/// <summary>Where the embedded emulator listens: loopback by default, stable ports so devices can be pointed at it.</summary>
public sealed class EmbeddedEmulatorOptions
{
    public int HttpsPort { get; set; } = 5543;

    /// <summary>MQTT over TLS for devices; -1 turns MQTT off.</summary>
    public int MqttPort { get; set; } = 8883;

    public string BindAddress { get; set; } = "127.0.0.1";
}
