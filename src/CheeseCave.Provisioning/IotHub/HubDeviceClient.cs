using System.Net.Security;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Errors;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Formatter;

namespace CheeseCave.Provisioning.IotHub;

/// <summary>
/// Connects an X.509 device to its IoT hub over MQTT 3.1.1 with TLS, as the device SDKs do (docs/iothub-data-plane.md
/// §1): client id = device id, user name <c>{hub}/{deviceId}/?api-version=…</c>, no password, the leaf and its chain
/// in the TLS handshake. Against Azure the TCP connection goes to the hub host on 8883; against the emulator to its
/// MQTT endpoint (the user name still names the hub, which is how the emulator tells hubs and DPS apart). Failures are
/// <see cref="ProvisioningException"/>s in plain words, a refused certificate included.
/// </summary>
public class HubDeviceClient
{
    /// <summary>The api-version sent in the MQTT user name (what the device SDKs send).</summary>
    public const string ApiVersion = "2021-04-12";

    private readonly ProvisioningConnection _connection = null!;
    private readonly HubDeviceClientOptions _options = null!;

    /// <summary>For mocking.</summary>
    protected HubDeviceClient()
    {
    }

    public HubDeviceClient(ProvisioningConnection connection, HubDeviceClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _options = options ?? new HubDeviceClientOptions();
        _options.Retry.Validate();
    }

    /// <summary>Where a device of <paramref name="hubHostName"/> connects: the emulator's MQTT endpoint, or the hub on 8883.</summary>
    public string EndpointFor(string hubHostName, string? gatewayHost = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hubHostName);
        if (!string.IsNullOrWhiteSpace(gatewayHost)) return gatewayHost;
        return _connection.Target == ProvisioningTarget.Emulator
            ? _connection.MqttHost ?? throw new InvalidOperationException("The emulator runs without MQTT (MqttPort -1), so devices cannot connect to its hubs; start it with an MQTT port.")
            : $"{hubHostName}:{ProvisioningConnection.MqttTlsPort}";
    }

    /// <summary>Opens the device's connection; dispose the session to disconnect.</summary>
    public virtual async Task<HubDeviceSession> ConnectAsync(HubDeviceConnectRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var endpoint = EndpointFor(request.HubHostName, request.GatewayHost);
        var (host, port) = MqttTlsStreamProvider.SplitHost(endpoint);
        var action = $"connect device '{request.DeviceId}' to IoT hub '{request.HubHostName}' over MQTT";
        var certificate = SslStreamCertificateContext.Create(request.Certificate, request.Chain, offline: true);
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithStreamProvider(new MqttTlsStreamProvider(_connection, certificate, host))
            .WithClientId(request.DeviceId)
            .WithCredentials($"{request.HubHostName}/{request.DeviceId}/?api-version={ApiVersion}&DeviceClientType={Uri.EscapeDataString(ClientType)}", (string?)null)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession()
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(60))
            .WithTimeout(_options.Retry.NetworkTimeout)
            .Build();
        var client = new MqttClientFactory().CreateMqttClient();
        var session = new HubDeviceSession(client, request.HubHostName, request.DeviceId, endpoint, _options);
        using var timeout = new CancellationTokenSource(_options.Retry.NetworkTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            MqttClientConnectResult result;
            try
            {
                result = await client.ConnectAsync(options, linked.Token).ConfigureAwait(false);
            }
            catch (MqttConnectingFailedException ex)
            {
                // MQTTnet 5's exception carries the CONNACK code only in its message.
                throw Refused(action, Enum.GetValues<MqttClientConnectResultCode>().FirstOrDefault(c => c != MqttClientConnectResultCode.Success && ex.Message.Contains(c.ToString(), StringComparison.Ordinal), MqttClientConnectResultCode.UnspecifiedError), ex);
            }

            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw Refused(action, result.ResultCode, null);
            }

            await session.SubscribeAsync(linked.Token).ConfigureAwait(false);
            return session;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            if (ex is ProvisioningException) throw;
            var mapped = ex is OperationCanceledException
                ? new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Device, 0,
                    $"Could not {action}: {endpoint} did not answer within {_options.Retry.NetworkTimeout.TotalSeconds:0.#} s.", null, null, IsTransient: true), ex)
                : ProvisioningErrorClassifier.FromException(ProvisioningSurface.Device, ex, null, action);
            if (mapped is null) throw;
            throw mapped;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>What the MQTT user name reports as the client.</summary>
    public static string ClientType => "cheesecave-provisioning/1.0";

    /// <summary>A CONNACK other than accepted, in words: a refused certificate, or a hub that is not available now.</summary>
    internal static ProvisioningException Refused(string action, MqttClientConnectResultCode code, Exception? inner) => code switch
    {
        MqttClientConnectResultCode.NotAuthorized or MqttClientConnectResultCode.BadUserNameOrPassword => new ProvisioningException(new ProvisioningErrorDetails(
            ProvisioningSurface.Device, 401,
            $"Could not {action}: the hub refused the device's certificate: not authorized (CONNACK {(int)code}). The hub accepts a device that exists in its registry, is enabled, and whose certificate is the one DPS registered (or chains to a CA verified in the DPS that assigned it).",
            "NotAuthorized"), inner),
        MqttClientConnectResultCode.ServerUnavailable or MqttClientConnectResultCode.ServerBusy or MqttClientConnectResultCode.QuotaExceeded
            or MqttClientConnectResultCode.ConnectionRateExceeded => new ProvisioningException(new ProvisioningErrorDetails(
            ProvisioningSurface.Device, 503, $"Could not {action}: the hub is not available right now ({code}).", code.ToString(), null, IsTransient: true), inner),
        _ => new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Device, 400,
            $"Could not {action}: the hub refused the connection ({code}).", code.ToString()), inner),
    };
}
