using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using Microsoft.AspNetCore.WebUtilities;
using MQTTnet;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// DPS device registration over MQTT 3.1.1/5 on its own TLS port (docs/azure-wire.md §6.4): CONNECT with
/// clientId = registration ID and user name "{idScope}/registrations/{registrationId}/api-version=..", SUBSCRIBE
/// $dps/registrations/res/#, PUBLISH to $dps/registrations/PUT/iotdps-register/?$rid=.. or
/// $dps/registrations/GET/iotdps-get-operationstatus/?$rid=..&amp;operationId=.., answered on
/// $dps/registrations/res/{status}/?$rid=.. with a JSON body (errors too). Same engine and rules as HTTPS.
/// </summary>
internal sealed class MqttDeviceServer : IAsyncDisposable
{
    private const string SessionKey = "cheesecave.dps-device";
    private const string RegisterTopic = "$dps/registrations/PUT/iotdps-register";
    private const string OperationTopic = "$dps/registrations/GET/iotdps-get-operationstatus";
    private const string ResponseTopicPrefix = "$dps/registrations/res/";

    private readonly MqttServer _server;
    private readonly MqttTlsServerAdapter _adapter;
    private readonly RegistrationEngine _engine;
    private readonly SurfaceFaults _faults;
    private readonly Hub.HubMqttSessions _hub;
    private readonly Random _random;
    private readonly object _randomGate = new();

    private MqttDeviceServer(EmulatorContext context, IPAddress address, int port, ILogger logger)
    {
        _engine = new RegistrationEngine(context);
        _faults = context.Options.Faults.Device;
        _random = context.Options.Faults.Seed is { } seed ? new Random(seed) : new Random();
        _adapter = new MqttTlsServerAdapter(address, port, context.Tls);
        var options = new MqttServerOptionsBuilder().Build();
        _server = new MqttServerFactory().CreateMqttServer(options, [_adapter], new MqttNetNullLogger());
        _server.ValidatingConnectionAsync += OnValidatingConnectionAsync;
        _server.InterceptingSubscriptionAsync += OnInterceptingSubscriptionAsync;
        _server.InterceptingPublishAsync += OnInterceptingPublishAsync;

        // IoT Hub devices share this port (the SDKs cannot choose another); their sessions are handled in Hub/.
        _hub = new Hub.HubMqttSessions(context.Hub, _server, logger);
        _adapter.ChannelClosed += _hub.OnChannelClosed;
        _server.InterceptingUnsubscriptionAsync += args => Hub.HubMqttSessions.Owns(args.SessionItems) ? Hub.HubMqttSessions.UnsubscribeAsync(args) : Task.CompletedTask;
    }

    public int Port { get; private set; }

    /// <summary>MQTT over a WebSocket accepted on the HTTPS port (/$iothub/websocket), for DPS and hub devices alike.</summary>
    public Task RunWebSocketAsync(System.Net.WebSockets.WebSocket webSocket, EndPoint? remoteEndPoint, PeerCertificates? peer) =>
        _adapter.RunWebSocketAsync(webSocket, remoteEndPoint, peer);

    public static async Task<MqttDeviceServer> StartAsync(EmulatorContext context, IPAddress address, int port, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        var server = new MqttDeviceServer(context, address, port, logger);
        try
        {
            await server._server.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            server._server.Dispose();
            throw;
        }

        server.Port = server._adapter.Port;
        return server;
    }

    /// <summary>What a connection established: who the device says it is and what it presented.</summary>
    private sealed class DeviceSession(string idScope, string registrationId, PeerCertificates? certificates, string? sas)
    {
        public string IdScope { get; } = idScope;

        public string RegistrationId { get; } = registrationId;

        public PeerCertificates? Certificates { get; } = certificates;

        public string? Sas { get; } = sas;

        public volatile bool Subscribed;
    }

    private Task OnValidatingConnectionAsync(ValidatingConnectionEventArgs args)
    {
        if (Hub.HubMqttSessions.TryParseUserName(args.UserName, out _, out _))
        {
            return _hub.ValidateAsync(args, _adapter.PeerOf(args.ChannelAdapter));
        }

        Hub.HubMqttSessions.Forget(args.SessionItems); // the same client id may have been a hub device on this broker
        // "{idScope}/registrations/{registrationId}/api-version=2019-03-31&ClientVersion=..."
        var parts = (args.UserName ?? string.Empty).Split('/', 4);
        if (parts.Length < 3 || !parts[1].Equals("registrations", StringComparison.OrdinalIgnoreCase) || parts[0].Length == 0 || parts[2].Length == 0)
        {
            args.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            args.ReasonString = "The user name must be '{idScope}/registrations/{registrationId}/api-version=2019-03-31'.";
            return Task.CompletedTask;
        }

        if (!string.Equals(args.ClientId, parts[2], StringComparison.OrdinalIgnoreCase))
        {
            args.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
            args.ReasonString = $"The client ID '{args.ClientId}' must equal the registration ID '{parts[2]}' of the user name.";
            return Task.CompletedTask;
        }

        // Authentication happens per request, so a refused device gets DPS's JSON error on res/401.
        var sas = args.RawPassword is { Length: > 0 } ? args.Password : null;
        args.SessionItems[SessionKey] = new DeviceSession(parts[0], parts[2], _adapter.PeerOf(args.ChannelAdapter), sas);
        return Task.CompletedTask;
    }

    private Task OnInterceptingSubscriptionAsync(InterceptingSubscriptionEventArgs args)
    {
        if (Hub.HubMqttSessions.Owns(args.SessionItems)) return _hub.SubscribeAsync(args);
        var topic = args.TopicFilter.Topic ?? string.Empty;
        if (!topic.StartsWith(ResponseTopicPrefix, StringComparison.Ordinal))
        {
            args.ProcessSubscription = false;
            args.Response.ReasonCode = MqttSubscribeReasonCode.TopicFilterInvalid;
            args.ReasonString = $"DPS devices may only subscribe to {ResponseTopicPrefix}#.";
            return Task.CompletedTask;
        }

        if (args.TopicFilter.QualityOfServiceLevel > MqttQualityOfServiceLevel.AtLeastOnce)
        {
            args.TopicFilter.QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce; // DPS grants at most QoS 1
        }

        if (Session(args.SessionItems) is { } session)
        {
            session.Subscribed = true;
        }

        return Task.CompletedTask;
    }

    private async Task OnInterceptingPublishAsync(InterceptingPublishEventArgs args)
    {
        if (Hub.HubMqttSessions.Owns(args.SessionItems))
        {
            await _hub.PublishAsync(args).ConfigureAwait(false);
            return;
        }

        args.ProcessPublish = false; // nothing a device publishes is routed to other clients
        var session = Session(args.SessionItems);
        if (session is null) return;

        var topic = args.ApplicationMessage.Topic ?? string.Empty;
        var question = topic.IndexOf('?', StringComparison.Ordinal);
        var path = (question < 0 ? topic : topic[..question]).TrimEnd('/');
        var query = QueryHelpers.ParseQuery(question < 0 ? string.Empty : topic[question..]);
        var rid = query.TryGetValue("$rid", out var ridValue) ? ridValue.ToString() : null;
        if (string.IsNullOrEmpty(rid))
        {
            return; // without $rid the device could not match an answer
        }

        DeviceApiResult result;
        if (await InjectFaultAsync(args).ConfigureAwait(false) is { } fault)
        {
            result = fault;
        }
        else if (path.Equals(RegisterTopic, StringComparison.OrdinalIgnoreCase))
        {
            var text = Encoding.UTF8.GetString(args.ApplicationMessage.Payload.ToArray());
            JsonNode? body = null;
            DeviceApiError? invalid = null;
            if (!string.IsNullOrWhiteSpace(text))
            {
                try
                {
                    body = JsonNode.Parse(text);
                }
                catch (JsonException ex)
                {
                    invalid = DeviceErrors.MqttPayloadNotJson(ex.Message);
                }
            }

            result = invalid is not null
                ? DeviceApiResult.Fail(invalid)
                : await _engine.RegisterAsync(new DeviceRequest(session.IdScope, session.RegistrationId, session.Certificates, session.Sas, body)).ConfigureAwait(false);
        }
        else if (path.Equals(OperationTopic, StringComparison.OrdinalIgnoreCase))
        {
            var operationId = query.TryGetValue("operationId", out var op) ? op.ToString() : string.Empty;
            result = _engine.GetOperation(new DeviceRequest(session.IdScope, session.RegistrationId, session.Certificates, session.Sas), operationId);
        }
        else
        {
            result = DeviceApiResult.Fail(DeviceErrors.UnknownTopic(path, RegisterTopic, OperationTopic));
        }

        if (args.CloseConnection || !session.Subscribed)
        {
            return; // DPS only answers devices that subscribed to the response topic
        }

        await RespondAsync(args.ClientId, rid, result).ConfigureAwait(false);
    }

    private async Task RespondAsync(string clientId, string rid, DeviceApiResult result)
    {
        var topic = $"{ResponseTopicPrefix}{result.Status.ToString(CultureInfo.InvariantCulture)}/?$rid={rid}";
        if (result.RetryAfterSeconds is { } retryAfter)
        {
            topic += $"&retry-after={retryAfter.ToString(CultureInfo.InvariantCulture)}";
        }

        var body = result.Error is { } error ? error.ToJson(_engine.Context.Time.GetUtcNow()) : result.Body ?? [];
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(Encoding.UTF8.GetBytes(body.ToJsonString()))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        try
        {
            var session = await _server.GetSessionAsync(clientId).ConfigureAwait(false);
            session.TryEnqueueApplicationMessage(message, out _);
        }
        catch (InvalidOperationException)
        {
            // the device disconnected meanwhile
        }
    }

    /// <summary>The Faults:Device settings, applied per request as on HTTPS: latency, dropped connection, 429, 503.</summary>
    private async Task<DeviceApiResult?> InjectFaultAsync(InterceptingPublishEventArgs args)
    {
        if (!_faults.Any) return null;
        if (_faults.AddedLatencyMs > 0)
        {
            await Task.Delay(_faults.AddedLatencyMs, args.CancellationToken).ConfigureAwait(false);
        }

        double roll;
        lock (_randomGate)
        {
#pragma warning disable CA5394 // fault injection, not security
            roll = _random.NextDouble();
#pragma warning restore CA5394
        }

        if (roll < _faults.DropConnectionRate)
        {
            args.CloseConnection = true;
            return DeviceApiResult.Fail(DeviceErrors.InjectedConnectionDrop());
        }

        roll -= _faults.DropConnectionRate;
        if (roll < _faults.ThrottleRate)
        {
            return DeviceApiResult.Fail(DeviceErrors.InjectedThrottling()) with { RetryAfterSeconds = _faults.RetryAfterSeconds };
        }

        roll -= _faults.ThrottleRate;
        if (roll < _faults.UnavailableRate)
        {
            return DeviceApiResult.Fail(DeviceErrors.InjectedUnavailability()) with { RetryAfterSeconds = _faults.RetryAfterSeconds };
        }

        return null;
    }

    private static DeviceSession? Session(IDictionary items) => items[SessionKey] as DeviceSession;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _server.StopAsync(new MqttServerStopOptionsBuilder().Build()).ConfigureAwait(false);
        }
        finally
        {
            _server.Dispose();
            _adapter.Dispose();
        }
    }
}
