using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using CheeseCave.Provisioning.Configuration;

namespace CheeseCave.Provisioning.IotHub;

/// <summary>Options of <see cref="HubDeviceClient"/>; <c>Retry.NetworkTimeout</c> bounds the connect and each answer awaited.</summary>
public sealed class HubDeviceClientOptions : ProvisioningClientOptions
{
}

/// <summary>
/// An X.509 device connecting to the hub DPS assigned it: the hub host name (<c>assignedHub</c>), the device
/// certificate WITH its private key and the intermediates it sends in the TLS handshake. The device id is the leaf's CN.
/// </summary>
public sealed class HubDeviceConnectRequest
{
    public HubDeviceConnectRequest(string hubHostName, X509Certificate2 certificate, X509Certificate2Collection? chain = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hubHostName);
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("The device certificate needs its private key for the TLS handshake (load the PFX, or attach the key).", nameof(certificate));
        }

        HubHostName = hubHostName;
        Certificate = certificate;
        Chain = chain ?? [];
        DeviceId = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false) is { Length: > 0 } cn
            ? cn
            : throw new ArgumentException("The device certificate has no CN; IoT Hub takes the device id from it.", nameof(certificate));
    }

    /// <summary>The hub's host name ({hub}.azure-devices.net): it goes into the MQTT user name whatever the TCP endpoint.</summary>
    public string HubHostName { get; }

    public X509Certificate2 Certificate { get; }

    /// <summary>The intermediates sent after the leaf (leave empty only when the leaf's issuer is the CA the hub trusts).</summary>
    public X509Certificate2Collection Chain { get; }

    /// <summary>The leaf's CN: the device id the hub knows.</summary>
    public string DeviceId { get; }

    /// <summary>
    /// Where the TCP connection goes (host[:port], 8883 by default), like a connection string's GatewayHostName. Null:
    /// the hub host on Azure, the emulator's MQTT endpoint against the emulator.
    /// </summary>
    public string? GatewayHost { get; init; }
}

/// <summary>
/// One device-to-cloud message: the body, its content type and encoding (so routing and readers can parse it),
/// and application properties.
/// </summary>
public sealed record HubTelemetryMessage(string Body)
{
    public string ContentType { get; init; } = "application/json";

    public string ContentEncoding { get; init; } = "utf-8";

    /// <summary>The message id ($.mid); a new GUID when null.</summary>
    public string? MessageId { get; init; }

    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
}

/// <summary>A telemetry message the hub acknowledged (MQTT PUBACK).</summary>
public sealed record HubTelemetrySent(string MessageId, DateTimeOffset AcknowledgedAt, int BodyBytes);

/// <summary>The twin as the device reads it: desired and reported properties, each with its version.</summary>
public sealed record DeviceTwinProperties(JsonObject Desired, long DesiredVersion, JsonObject Reported, long ReportedVersion);
