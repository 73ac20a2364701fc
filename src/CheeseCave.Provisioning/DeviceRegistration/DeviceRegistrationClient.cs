using System.Net.Security;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.DeviceRegistration;

/// <summary>
/// Registers an X.509 device with DPS the way a device does, over HTTPS or MQTT, presenting the leaf and its chain
/// in the TLS handshake (SslStreamCertificateContext: the only way .NET sends the intermediates). Polls the operation
/// (honouring retry-after) until DPS reports assigned, failed or disabled, within an overall timeout. Transient
/// failures (429, 5xx, dropped connections) are retried; DPS's refusals are ProvisioningException with its error code.
/// </summary>
public class DeviceRegistrationClient
{
    /// <summary>The device API version sent over HTTPS and in the MQTT user name.</summary>
    public const string ApiVersion = "2021-06-01";

    /// <summary>What the MQTT user name reports as the client.</summary>
    public const string ClientVersion = "cheesecave-provisioning/1.0";

    private readonly ProvisioningConnection _connection = null!;
    private readonly DeviceRegistrationClientOptions _options = null!;

    /// <summary>For mocking.</summary>
    protected DeviceRegistrationClient()
    {
    }

    public DeviceRegistrationClient(ProvisioningConnection connection, DeviceRegistrationClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _options = options ?? new DeviceRegistrationClientOptions();
        _options.Retry.Validate();
        if (_options.RegistrationTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.RegistrationTimeout, "RegistrationTimeout must be positive.");
        }
    }

    public virtual Task<DeviceRegistrationResult> RegisterAsync(DeviceRegistrationRequest request, DeviceTransport transport, CancellationToken cancellationToken = default) =>
        transport == DeviceTransport.Mqtt ? RegisterOverMqttAsync(request, cancellationToken) : RegisterOverHttpsAsync(request, cancellationToken);

    public virtual async Task<DeviceRegistrationResult> RegisterOverHttpsAsync(DeviceRegistrationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var handler = _connection.CreateHttpMessageHandler(CertificateContext(request));
        var channel = new HttpsDeviceChannel(_options.WrapHandler?.Invoke(handler) ?? handler, request.ProvisioningHost ?? _connection.DeviceProvisioningHost,
            request.IdScope, request.RegistrationId, _options.Retry, _options.TimeProvider);
        await using (channel.ConfigureAwait(false))
        {
            return await RunAsync(channel, request, cancellationToken).ConfigureAwait(false);
        }
    }

    public virtual async Task<DeviceRegistrationResult> RegisterOverMqttAsync(DeviceRegistrationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var host = request.ProvisioningHost ?? _connection.MqttHost
            ?? throw new InvalidOperationException("This connection has no MQTT host (the emulator runs without MQTT); register over HTTPS.");
        var channel = new MqttDeviceChannel(_connection, CertificateContext(request), host, request.IdScope, request.RegistrationId, _options.Retry, _options.TimeProvider);
        await using (channel.ConfigureAwait(false))
        {
            return await RunAsync(channel, request, cancellationToken).ConfigureAwait(false);
        }
    }

    private static SslStreamCertificateContext CertificateContext(DeviceRegistrationRequest request) =>
        SslStreamCertificateContext.Create(request.Certificate, request.Chain, offline: true);

    /// <summary>Register, then poll while DPS says assigning, each step with the retry loop, all within the overall timeout.</summary>
    private async Task<DeviceRegistrationResult> RunAsync(IDeviceChannel channel, DeviceRegistrationRequest request, CancellationToken cancellationToken)
    {
        var action = $"register device '{request.RegistrationId}' over {channel.Transport.ToString().ToUpperInvariant()}";
        using var timeout = new CancellationTokenSource(_options.RegistrationTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var body = new JsonObject { ["registrationId"] = request.RegistrationId };
        if (request.Payload is not null)
        {
            body["payload"] = request.Payload.DeepClone();
        }

        try
        {
            var answer = await RetryLoop.RunAsync(_options.Retry, _options.TimeProvider, ProvisioningSurface.Device, action,
                (_, token) => channel.RegisterAsync(body, action, token), linked.Token).ConfigureAwait(false);
            while (true)
            {
                var operation = Parse(answer, action, request.RegistrationId, channel.Transport);
                if (operation.Result is { } done)
                {
                    return done;
                }

                var operationId = operation.OperationId
                    ?? throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Device, answer.Status, $"Could not {action}: DPS is still assigning but sent no operationId to poll."));
                var wait = answer.RetryAfter is { } retryAfter && retryAfter > TimeSpan.Zero ? retryAfter : _options.DefaultPollInterval;
                await Task.Delay(wait, _options.TimeProvider, linked.Token).ConfigureAwait(false);
                answer = await RetryLoop.RunAsync(_options.Retry, _options.TimeProvider, ProvisioningSurface.Device, action,
                    (_, token) => channel.PollAsync(operationId, action, token), linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Device, 0,
                $"Could not {action}: it did not finish within {_options.RegistrationTimeout.TotalSeconds:0.#} s.", null, null, IsTransient: true), ex);
        }
    }

    private sealed record ParsedOperation(string? OperationId, DeviceRegistrationResult? Result);

    /// <summary>RegistrationOperationStatus: {operationId, status, registrationState{...}}; terminal when assigned, failed or disabled.</summary>
    private static ParsedOperation Parse(HttpAnswer answer, string action, string registrationId, DeviceTransport transport)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(answer.Body);
        }
        catch (JsonException ex)
        {
            throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Device, answer.Status, $"Could not {action}: DPS's answer is not JSON ({ex.Message})."), ex);
        }

        var operationId = Text(root?["operationId"]);
        var statusText = Text(root?["status"]);
        var state = root?["registrationState"] as JsonObject;
        var status = ParseEnum<RegistrationStatus>(statusText ?? Text(state?["status"]));
        if (status is RegistrationStatus.Assigned or RegistrationStatus.Failed or RegistrationStatus.Disabled)
        {
            var info = (root?["info"] ?? state?["info"]) as JsonObject;
            return new ParsedOperation(operationId, new DeviceRegistrationResult(
                status.Value,
                Text(state?["registrationId"]) ?? registrationId,
                Text(state?["assignedHub"]),
                Text(state?["deviceId"]),
                ParseEnum<RegistrationSubstatus>(Text(state?["substatus"])),
                state?["errorCode"] is JsonValue code && code.TryGetValue<int>(out var errorCode) ? errorCode : null,
                Text(state?["errorMessage"]),
                operationId,
                transport,
                info is null ? null : info.ToDictionary(p => p.Key, p => p.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : p.Value?.ToJsonString() ?? string.Empty)));
        }

        return new ParsedOperation(operationId, null);
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static T? ParseEnum<T>(string? value)
        where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed : null;
}
