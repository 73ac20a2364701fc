using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Errors;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Channel;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace CheeseCave.Provisioning.DeviceRegistration;

/// <summary>One device's way to DPS: register and poll, each answered with a status and a JSON body.</summary>
internal interface IDeviceChannel : IAsyncDisposable
{
    DeviceTransport Transport { get; }

    /// <summary>Sends the register request once; an error answer throws ProvisioningException.</summary>
    Task<HttpAnswer> RegisterAsync(JsonObject body, string action, CancellationToken cancellationToken);

    /// <summary>Asks once for the operation's status; an error answer throws ProvisioningException.</summary>
    Task<HttpAnswer> PollAsync(string operationId, string action, CancellationToken cancellationToken);
}

/// <summary>PUT register / GET operations over HTTPS, with the client chain in the TLS handshake.</summary>
internal sealed class HttpsDeviceChannel : IDeviceChannel
{
    private readonly HttpClient _http;
    private readonly RetryingHttpSender _sender;
    private readonly string _prefix;

    public HttpsDeviceChannel(HttpMessageHandler handler, string host, string idScope, string registrationId, ProvisioningRetryOptions retry, TimeProvider time)
    {
        _http = new HttpClient(handler, disposeHandler: true) { BaseAddress = new Uri($"https://{host}/"), Timeout = Timeout.InfiniteTimeSpan };
        _sender = new RetryingHttpSender(_http, retry, time, ProvisioningSurface.Device);
        _prefix = $"{Uri.EscapeDataString(idScope)}/registrations/{Uri.EscapeDataString(registrationId)}";
    }

    public DeviceTransport Transport => DeviceTransport.Https;

    public Task<HttpAnswer> RegisterAsync(JsonObject body, string action, CancellationToken cancellationToken) =>
        _sender.SendOnceAsync(() => Request(HttpMethod.Put, $"{_prefix}/register", body), action, [], cancellationToken);

    public Task<HttpAnswer> PollAsync(string operationId, string action, CancellationToken cancellationToken) =>
        _sender.SendOnceAsync(() => Request(HttpMethod.Get, $"{_prefix}/operations/{Uri.EscapeDataString(operationId)}", null), action, [], cancellationToken);

    private static HttpRequestMessage Request(HttpMethod method, string path, JsonObject? body)
    {
        var request = new HttpRequestMessage(method, $"{path}?api-version={DeviceRegistrationClient.ApiVersion}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        return request;
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// DPS over MQTT 3.1.1 with MQTTnet (docs/azure-wire.md §6.4). MQTTnet's own TLS options take client certificates only
/// as a collection or a selection callback, and .NET then sends just the leaf; so the TLS stream is opened here
/// with an SslStreamCertificateContext (which sends the intermediates) and handed to MQTTnet as its transport.
/// The connection is opened lazily and re-opened after it drops.
/// </summary>
internal sealed partial class MqttDeviceChannel : IDeviceChannel
{
    private const string ResponseTopics = "$dps/registrations/res/#";
    private const string RegisterTopic = "$dps/registrations/PUT/iotdps-register/";
    private const string OperationTopic = "$dps/registrations/GET/iotdps-get-operationstatus/";

    private readonly ProvisioningConnection _connection;
    private readonly SslStreamCertificateContext _clientCertificate;
    private readonly string _host;
    private readonly int _port;
    private readonly string _idScope;
    private readonly string _registrationId;
    private readonly TimeSpan _networkTimeout;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<HttpAnswer>> _pending = new(StringComparer.Ordinal);
    private IMqttClient? _client;

    public MqttDeviceChannel(ProvisioningConnection connection, SslStreamCertificateContext clientCertificate, string hostAndPort, string idScope, string registrationId, ProvisioningRetryOptions retry, TimeProvider time)
    {
        _connection = connection;
        _clientCertificate = clientCertificate;
        (_host, _port) = MqttTlsStreamProvider.SplitHost(hostAndPort);
        _idScope = idScope;
        _registrationId = registrationId;
        _networkTimeout = retry.NetworkTimeout;
        _time = time;
    }

    public DeviceTransport Transport => DeviceTransport.Mqtt;

    public Task<HttpAnswer> RegisterAsync(JsonObject body, string action, CancellationToken cancellationToken) =>
        RequestAsync(RegisterTopic, body.ToJsonString(), string.Empty, action, cancellationToken);

    public Task<HttpAnswer> PollAsync(string operationId, string action, CancellationToken cancellationToken) =>
        RequestAsync(OperationTopic, " ", "&operationId=" + Uri.EscapeDataString(operationId), action, cancellationToken);

    private async Task<HttpAnswer> RequestAsync(string topic, string payload, string extraQuery, string action, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_networkTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var rid = Guid.NewGuid().ToString("N");
        var answer = new TaskCompletionSource<HttpAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[rid] = answer;
        try
        {
            var client = await ConnectedClientAsync(action, linked.Token).ConfigureAwait(false);
            await client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic($"{topic}?$rid={rid}{extraQuery}")
                .WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build(), linked.Token).ConfigureAwait(false);
            var result = await answer.Task.WaitAsync(linked.Token).ConfigureAwait(false);
            if (result.Status >= 300)
            {
                throw ProvisioningErrorClassifier.FromResponse(ProvisioningSurface.Device, result.Status, result.Body, result.Header, rid, action);
            }

            return result;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            await DropAsync().ConfigureAwait(false);
            throw ProvisioningErrorClassifier.FromException(ProvisioningSurface.Device, new TimeoutException($"No MQTT answer within {_networkTimeout.TotalSeconds:0.#} s.", ex), rid, action)!;
        }
        catch (Exception ex) when (ex is not ProvisioningException && !cancellationToken.IsCancellationRequested
            && ProvisioningErrorClassifier.FromException(ProvisioningSurface.Device, ex, rid, action) is { } mapped)
        {
            await DropAsync().ConfigureAwait(false);
            throw mapped;
        }
        finally
        {
            _pending.TryRemove(rid, out _);
        }
    }

    private async Task<IMqttClient> ConnectedClientAsync(string action, CancellationToken cancellationToken)
    {
        if (_client is { IsConnected: true } connected)
        {
            return connected;
        }

        await DropAsync().ConfigureAwait(false);
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            OnMessage(e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString());
            return Task.CompletedTask;
        };
        client.DisconnectedAsync += _ =>
        {
            // Only the live connection fails the waiting requests; a connection this channel dropped itself does not.
            if (!ReferenceEquals(Volatile.Read(ref _client), client)) return Task.CompletedTask;
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new IOException("The MQTT connection to DPS closed before the answer arrived."));
            }

            return Task.CompletedTask;
        };
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(_host, _port)
            .WithStreamProvider(new MqttTlsStreamProvider(_connection, _clientCertificate, _host))
            .WithClientId(_registrationId)
            .WithCredentials($"{_idScope}/registrations/{_registrationId}/api-version={DeviceRegistrationClient.ApiVersion}&ClientVersion={Uri.EscapeDataString(DeviceRegistrationClient.ClientVersion)}", (string?)null)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithCleanSession()
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(60))
            .WithTimeout(_networkTimeout)
            .Build();
        _client = client;
        MqttClientConnectResult result;
        try
        {
            result = await client.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (MqttConnectingFailedException ex)
        {
            await DropAsync().ConfigureAwait(false);
            throw ConnectRefused(action, ex.Message, ex);
        }

        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            await DropAsync().ConfigureAwait(false);
            throw ConnectRefused(action, $"{result.ResultCode}{(string.IsNullOrEmpty(result.ReasonString) ? string.Empty : ": " + result.ReasonString)}", null);
        }

        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(ResponseTopics, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
        return client;
    }

    /// <summary>A refused CONNECT: transient only when the broker says it is busy or unavailable.</summary>
    private static ProvisioningException ConnectRefused(string action, string reason, Exception? inner)
    {
        var transient = reason.Contains("ServerUnavailable", StringComparison.Ordinal) || reason.Contains("ServerBusy", StringComparison.Ordinal)
            || reason.Contains("QuotaExceeded", StringComparison.Ordinal) || reason.Contains("ConnectionRateExceeded", StringComparison.Ordinal);
        return new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Device, transient ? 503 : 401,
            $"Could not {action}: DPS refused the MQTT connection ({reason}).", null, null, transient), inner);
    }

    /// <summary>$dps/registrations/res/{status}/?$rid={rid}[&amp;retry-after={seconds}]</summary>
    private void OnMessage(string topic, string payload)
    {
        var match = ResponseTopic().Match(topic ?? string.Empty);
        if (!match.Success) return;
        var query = match.Groups[2].Value.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : string.Empty, StringComparer.OrdinalIgnoreCase);
        if (!query.TryGetValue("$rid", out var rid) || !_pending.TryGetValue(rid, out var waiting)) return;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (query.TryGetValue("retry-after", out var retryAfter)) headers["retry-after"] = retryAfter;
        waiting.TrySetResult(new HttpAnswer(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), payload ?? string.Empty, headers));
    }

    private async Task DropAsync()
    {
        var client = _client;
        _client = null;
        if (client is null) return;
        try
        {
            if (client.IsConnected)
            {
                await client.TryDisconnectAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            client.Dispose();
        }
    }

    public ValueTask DisposeAsync() => new(DropAsync());

    [GeneratedRegex(@"^\$dps/registrations/res/(\d+)/\?(.*)$")]
    private static partial Regex ResponseTopic();
}
