using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DpsService;

namespace CheeseCave.Provisioning.DeviceRegistration;

public enum DeviceTransport
{
    Https,
    Mqtt,
}

/// <summary>
/// One X.509 device registration: the device certificate WITH its private key, and the chain it must send (its
/// intermediates, up to a CA verified in the DPS; the root may be left out). The registration id is the leaf's CN.
/// </summary>
public sealed class DeviceRegistrationRequest
{
    public DeviceRegistrationRequest(string idScope, X509Certificate2 certificate, X509Certificate2Collection? chain = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idScope);
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("The device certificate needs its private key for the TLS handshake (load the PFX, or attach the key).", nameof(certificate));
        }

        IdScope = idScope;
        Certificate = certificate;
        Chain = chain ?? [];
        RegistrationId = CommonNameOf(certificate)
            ?? throw new ArgumentException("The device certificate has no CN; DPS takes the registration id from it.", nameof(certificate));
    }

    public string IdScope { get; }

    public X509Certificate2 Certificate { get; }

    /// <summary>The intermediates sent after the leaf in the TLS handshake (leave empty only when the leaf's issuer is the verified CA).</summary>
    public X509Certificate2Collection Chain { get; }

    /// <summary>The leaf's CN, which DPS requires as the registration id.</summary>
    public string RegistrationId { get; }

    /// <summary>Optional custom data passed to the allocation (and stored in the registration record).</summary>
    public JsonObject? Payload { get; init; }

    /// <summary>Overrides the connection's device host (HTTPS: host[:port]; MQTT: host[:port], 8883 by default).</summary>
    public string? ProvisioningHost { get; init; }

    private static string? CommonNameOf(X509Certificate2 certificate)
    {
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.GetSingleElementType().Value == "2.5.4.3")
            {
                return rdn.GetSingleElementValue();
            }
        }

        return null;
    }
}

/// <summary>The outcome DPS reported for a registration that it answered (assigned, failed or disabled).</summary>
public sealed record DeviceRegistrationResult(
    RegistrationStatus Status,
    string RegistrationId,
    string? AssignedHub,
    string? DeviceId,
    RegistrationSubstatus? Substatus,
    int? ErrorCode,
    string? ErrorMessage,
    string? OperationId,
    DeviceTransport Transport,
    IReadOnlyDictionary<string, string>? Info = null)
{
    public bool IsAssigned => Status == RegistrationStatus.Assigned;
}

public sealed class DeviceRegistrationClientOptions : ProvisioningClientOptions
{
    /// <summary>The whole registration (all attempts and polls) must finish within this time, or it fails as transient.</summary>
    public TimeSpan RegistrationTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long to wait between polls when DPS sends no retry-after.</summary>
    public TimeSpan DefaultPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Test hook: wraps the HTTPS handler.</summary>
    internal Func<HttpMessageHandler, HttpMessageHandler>? WrapHandler { get; set; }
}
