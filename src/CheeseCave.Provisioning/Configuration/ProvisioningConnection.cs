using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Identity;
using Azure.ResourceManager;

namespace CheeseCave.Provisioning.Configuration;

/// <summary>
/// Everything that differs between Azure and the emulator: the ARM environment and subscription, the credential, the
/// device hosts and which server certificates are trusted. The three clients take one of these and otherwise run the
/// same code. For the emulator, only its own CA is trusted (custom root trust); certificate validation is never off.
/// </summary>
public sealed class ProvisioningConnection
{
    /// <summary>The global device endpoint of DPS in Azure public cloud.</summary>
    public const string AzureDeviceProvisioningHost = "global.azure-devices-provisioning.net";

    /// <summary>DPS's MQTT-over-TLS port.</summary>
    public const int MqttTlsPort = 8883;

    private ProvisioningConnection(
        ProvisioningTarget target,
        ArmEnvironment armEnvironment,
        TokenCredential credential,
        string? subscriptionId,
        string? defaultResourceGroup,
        string deviceProvisioningHost,
        string? mqttHost,
        X509Certificate2Collection? trustedRoots)
    {
        Target = target;
        ArmEnvironment = armEnvironment;
        Credential = credential;
        SubscriptionId = subscriptionId;
        DefaultResourceGroup = defaultResourceGroup;
        DeviceProvisioningHost = deviceProvisioningHost;
        MqttHost = mqttHost;
        TrustedRoots = trustedRoots;
    }

    public ProvisioningTarget Target { get; }

    public ArmEnvironment ArmEnvironment { get; }

    /// <summary>The credential for ARM (and for nothing else: the DPS service API uses SAS, devices their certificates).</summary>
    public TokenCredential Credential { get; }

    /// <summary>The subscription to work in; null means "the first one the credential can see".</summary>
    public string? SubscriptionId { get; }

    /// <summary>The emulator's seeded resource group, or null.</summary>
    public string? DefaultResourceGroup { get; }

    /// <summary>Where devices register over HTTPS: host[:port].</summary>
    public string DeviceProvisioningHost { get; }

    /// <summary>Where devices register over MQTT: host[:port] (8883 when no port is given); null if MQTT is not available.</summary>
    public string? MqttHost { get; }

    /// <summary>The only roots trusted for server certificates (the emulator CA); null means the system trust store.</summary>
    public X509Certificate2Collection? TrustedRoots { get; }

    /// <summary>
    /// Azure public cloud. <paramref name="credential"/> is any Entra ID credential (the signed-in user's token, a
    /// managed identity...); without one, DefaultAzureCredential is used.
    /// </summary>
    public static ProvisioningConnection ForAzure(TokenCredential? credential = null, string? subscriptionId = null) =>
        new(ProvisioningTarget.Azure, ArmEnvironment.AzurePublicCloud, credential ?? new DefaultAzureCredential(),
            string.IsNullOrWhiteSpace(subscriptionId) ? null : subscriptionId.Trim(), null, AzureDeviceProvisioningHost,
            $"{AzureDeviceProvisioningHost}:{MqttTlsPort}", null);

    /// <summary>The emulator described by <paramref name="settings"/>; trusts nothing but its CA.</summary>
    public static ProvisioningConnection ForEmulator(EmulatorConnectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!string.Equals(settings.ArmEndpoint.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"The emulator's ARM endpoint must be https (Azure.Core sends bearer tokens only over TLS); '{settings.ArmEndpoint}' is not.", nameof(settings));
        }

        var pem = settings.TrustBundlePem ?? (settings.TrustBundlePath is { } path ? File.ReadAllText(path)
            : throw new ArgumentException("The emulator's trust bundle is required (TrustBundlePem or TrustBundlePath).", nameof(settings)));
        var roots = new X509Certificate2Collection();
        roots.ImportFromPem(pem);
        if (roots.Count == 0)
        {
            throw new ArgumentException("The emulator's trust bundle holds no certificate.", nameof(settings));
        }

        var authority = settings.ArmEndpoint.IsDefaultPort ? settings.ArmEndpoint.Host : $"{settings.ArmEndpoint.Host}:{settings.ArmEndpoint.Port}";
        return new ProvisioningConnection(
            ProvisioningTarget.Emulator,
            new ArmEnvironment(settings.ArmEndpoint, ArmEnvironment.AzurePublicCloud.Audience),
            new StaticTokenCredential(settings.BearerToken),
            settings.SubscriptionId,
            settings.ResourceGroup,
            string.IsNullOrWhiteSpace(settings.DeviceProvisioningHost) ? authority : settings.DeviceProvisioningHost,
            string.IsNullOrWhiteSpace(settings.MqttHost) ? null : settings.MqttHost,
            roots);
    }

    /// <summary>The emulator whose endpoints.json is at <paramref name="path"/>.</summary>
    public static async Task<ProvisioningConnection> FromEmulatorEndpointsFileAsync(string path, CancellationToken cancellationToken = default) =>
        ForEmulator(await EmulatorConnectionSettings.ReadEndpointsFileAsync(path, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// The connection configuration asks for: the emulator (the default) from its endpoints.json, or Azure with
    /// <paramref name="azureCredential"/> (DefaultAzureCredential when null).
    /// </summary>
    public static async Task<ProvisioningConnection> FromSettingsAsync(ProvisioningConnectionSettings settings, TokenCredential? azureCredential = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Target switch
        {
            ProvisioningTarget.Azure => ForAzure(azureCredential, settings.SubscriptionId),
            _ => await FromEmulatorEndpointsFileAsync(
                settings.EmulatorEndpointsFile ?? throw new ArgumentException("Target Emulator needs EmulatorEndpointsFile (the emulator's endpoints.json).", nameof(settings)),
                cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>
    /// An HTTP handler with this connection's trust, optionally presenting a client certificate chain. Only an
    /// SslStreamCertificateContext makes .NET send the intermediates in the TLS handshake, so that is what it takes.
    /// </summary>
    public HttpMessageHandler CreateHttpMessageHandler(SslStreamCertificateContext? clientCertificate = null) =>
        new SocketsHttpHandler
        {
            SslOptions = CreateSslClientOptions(null, clientCertificate),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>TLS client options with this connection's trust (for MQTT and anything else that opens its own SslStream).</summary>
    public SslClientAuthenticationOptions CreateSslClientOptions(string? targetHost, SslStreamCertificateContext? clientCertificate = null)
    {
        var options = new SslClientAuthenticationOptions { TargetHost = targetHost, ClientCertificateContext = clientCertificate };
        if (TrustedRoots is not null)
        {
            options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => ValidateWithTrustedRoots(certificate, chain, errors);
        }

        return options;
    }

    /// <summary>
    /// Custom root trust: the server certificate must chain to one of <see cref="TrustedRoots"/> and every other check
    /// (host name, availability) must pass. Only "untrusted root" is overridden, and only by our own chain build.
    /// </summary>
    private bool ValidateWithTrustedRoots(System.Security.Cryptography.X509Certificates.X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(TrustedRoots!);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        }

        if (certificate is X509Certificate2 certificate2)
        {
            return custom.Build(certificate2);
        }

        using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(loaded);
    }

    public override string ToString() => Target == ProvisioningTarget.Azure ? "Azure public cloud" : $"Emulator at {ArmEnvironment.Endpoint}";
}
