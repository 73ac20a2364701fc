using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;
using Microsoft.AspNetCore.WebUtilities;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace CheeseCave.Emulator.Hub;

/// <summary>
/// IoT Hub devices over MQTT 3.1.1 on the emulator's MQTT port, beside DPS registration: a CONNECT whose user name
/// is "{hubHostName}/{deviceId}/?api-version=.." (DPS's is "{idScope}/registrations/..") comes here. Authentication
/// happens at CONNECT (CONNACK "not authorized" for an unknown, disabled or wrongly certified device); then the
/// device publishes telemetry, twin requests and method answers, and subscribes to twin responses, desired updates,
/// methods and cloud-to-device messages (docs/iothub-data-plane.md §1).
/// </summary>
internal sealed partial class HubMqttSessions(HubRuntime hub, MqttServer server, ILogger logger)
{
    private const string SessionKey = "cheesecave.hub-device";
    private const string TwinResponses = "$iothub/twin/res/#";
    private const string DesiredUpdates = "$iothub/twin/PATCH/properties/desired/#";
    private const string Methods = "$iothub/methods/POST/#";

    private readonly ConcurrentDictionary<IMqttChannelAdapter, HubDeviceConnection> _byChannel = new();

    /// <summary>Splits a hub user name; false for anything else (DPS's user names included).</summary>
    public static bool TryParseUserName(string? userName, out string hostName, out string deviceId)
    {
        var parts = (userName ?? string.Empty).Split('/', 3);
        hostName = parts[0];
        deviceId = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty;
        return parts.Length == 3 && hostName.Contains('.', StringComparison.Ordinal) && deviceId.Length > 0
            && !parts[1].Equals("registrations", StringComparison.OrdinalIgnoreCase);
    }

    public static bool Owns(IDictionary sessionItems) => Session(sessionItems) is not null;

    public Task ValidateAsync(ValidatingConnectionEventArgs args, PeerCertificates? peer)
    {
        ArgumentNullException.ThrowIfNull(args);
        _ = TryParseUserName(args.UserName, out var hostName, out var deviceId);
        if (!string.Equals(args.ClientId, deviceId, StringComparison.Ordinal))
        {
            args.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
            args.ReasonString = $"The client ID '{args.ClientId}' must be the device id '{deviceId}' of the user name.";
            return Task.CompletedTask;
        }

        var password = args.RawPassword is { Length: > 0 } ? args.Password : null;
        var result = hub.Authenticator.Authenticate(hostName, deviceId, peer, password);
        if (result.Identity is not { } identity)
        {
            LogRefused(deviceId, hostName, result.Refusal);
            args.ReasonCode = MqttConnectReasonCode.NotAuthorized;
            args.ReasonString = result.Refusal;
            return Task.CompletedTask;
        }

        var clientId = args.ClientId;
        var connection = new HubDeviceConnection(identity, Guid.NewGuid().ToString("N"), (topic, payload) => SendAsync(clientId, topic, payload));
        args.SessionItems[SessionKey] = connection;
        _byChannel[args.ChannelAdapter] = connection;
        hub.Connections.Connected(connection);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The device's TCP connection ended. Tracked per channel, not per broker session: DPS registration uses the
    /// same client id (registration id = device id) on this broker, so sessions, and their items, are shared
    /// between a device's DPS and hub connections, and a session's disconnect event can belong to either.
    /// </summary>
    public void OnChannelClosed(IMqttChannelAdapter channel)
    {
        if (_byChannel.TryRemove(channel, out var connection)) hub.Connections.Disconnected(connection);
    }

    /// <summary>DPS took this session over: its publishes and subscriptions are DPS's again.</summary>
    public static void Forget(IDictionary sessionItems)
    {
        ArgumentNullException.ThrowIfNull(sessionItems);
        sessionItems.Remove(SessionKey);
    }

    public Task SubscribeAsync(InterceptingSubscriptionEventArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var connection = Session(args.SessionItems)!;
        var topic = args.TopicFilter.Topic ?? string.Empty;
        var cloudToDevice = $"devices/{connection.Identity.DeviceId}/messages/devicebound/#";
        if (topic == Methods) connection.MethodsSubscribed = true;
        else if (topic == DesiredUpdates) connection.DesiredSubscribed = true;
        else if (topic.Equals(cloudToDevice, StringComparison.OrdinalIgnoreCase))
        {
            connection.CloudToDeviceSubscribed = true;
            _ = Task.Run(() => hub.CloudToDevice.DeliverAsync(connection)); // queued messages, after this SUBACK is on its way
        }
        else if (topic != TwinResponses)
        {
            args.ProcessSubscription = false;
            args.Response.ReasonCode = MqttSubscribeReasonCode.TopicFilterInvalid;
            args.ReasonString = $"An IoT Hub device may subscribe to {TwinResponses}, {DesiredUpdates}, {Methods} and {cloudToDevice} only.";
            return Task.CompletedTask;
        }

        if (args.TopicFilter.QualityOfServiceLevel > MqttQualityOfServiceLevel.AtLeastOnce)
        {
            args.TopicFilter.QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce; // IoT Hub grants at most QoS 1
        }

        return Task.CompletedTask;
    }

    public static Task UnsubscribeAsync(InterceptingUnsubscriptionEventArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var connection = Session(args.SessionItems)!;
        var topic = args.Topic ?? string.Empty;
        if (topic == Methods) connection.MethodsSubscribed = false;
        else if (topic == DesiredUpdates) connection.DesiredSubscribed = false;
        else if (topic.StartsWith("devices/", StringComparison.Ordinal)) connection.CloudToDeviceSubscribed = false;
        return Task.CompletedTask;
    }

    public async Task PublishAsync(InterceptingPublishEventArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        args.ProcessPublish = false; // nothing a device publishes is routed to other clients
        var connection = Session(args.SessionItems)!;
        var identity = connection.Identity;
        hub.Connections.Touch(identity);
        var topic = args.ApplicationMessage.Topic ?? string.Empty;
        var payload = System.Buffers.BuffersExtensions.ToArray(args.ApplicationMessage.Payload);

        // Telemetry first and without parsing a query: it is nearly all of the traffic.
        var events = identity.TelemetryTopic;
        if (topic.StartsWith(events, StringComparison.OrdinalIgnoreCase) || topic.AsSpan().Equals(events.AsSpan(0, events.Length - 1), StringComparison.OrdinalIgnoreCase))
        {
            var (properties, system) = PropertyBag.Parse(topic.Length > events.Length ? topic[events.Length..] : string.Empty);
            hub.Telemetry.Add(identity, payload, properties, system);
            return;
        }

        var question = topic.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? topic : topic[..question];
        var query = QueryHelpers.ParseQuery(question < 0 ? string.Empty : topic[question..]);
        var rid = query.TryGetValue("$rid", out var ridValue) ? ridValue.ToString() : string.Empty;
        if (path.TrimEnd('/') == "$iothub/twin/GET")
        {
            await AnswerTwinGetAsync(connection, rid).ConfigureAwait(false);
        }
        else if (path.TrimEnd('/') == "$iothub/twin/PATCH/properties/reported")
        {
            await AnswerReportedPatchAsync(connection, rid, payload).ConfigureAwait(false);
        }
        else if (path.StartsWith("$iothub/methods/res/", StringComparison.Ordinal)
            && int.TryParse(path["$iothub/methods/res/".Length..].TrimEnd('/'), NumberStyles.Integer, CultureInfo.InvariantCulture, out var status))
        {
            hub.Methods.Complete(identity, rid, status, payload);
        }
        else
        {
            // IoT Hub closes the connection of a device that publishes where it may not (another device's topic included).
            LogBadTopic(identity.DeviceId, topic);
            args.CloseConnection = true;
        }
    }

    private async Task AnswerTwinGetAsync(HubDeviceConnection connection, string rid)
    {
        var device = hub.Twins.Find(connection.Identity);
        var (status, body) = device is null ? (404, TwinError(404001, "The device is no longer registered.")) : (200, TwinJson.Device(device));
        await connection.SendAsync($"$iothub/twin/res/{status.ToString(CultureInfo.InvariantCulture)}/?$rid={rid}", Encoding.UTF8.GetBytes(body.ToJsonString())).ConfigureAwait(false);
    }

    private async Task AnswerReportedPatchAsync(HubDeviceConnection connection, string rid, byte[] payload)
    {
        JsonObject? patch = null;
        try
        {
            patch = JsonNode.Parse(payload) as JsonObject;
        }
        catch (JsonException)
        {
        }

        if (patch is null)
        {
            var error = TwinError(400004, "The reported properties patch must be a JSON object.");
            await connection.SendAsync($"$iothub/twin/res/400/?$rid={rid}", Encoding.UTF8.GetBytes(error.ToJsonString())).ConfigureAwait(false);
            return;
        }

        var change = await hub.Twins.PatchReportedAsync(connection.Identity, patch).ConfigureAwait(false);
        if (change.Device is { } device)
        {
            await connection.SendAsync($"$iothub/twin/res/204/?$rid={rid}&$version={device.ReportedVersion.ToString(CultureInfo.InvariantCulture)}", []).ConfigureAwait(false);
        }
        else
        {
            await connection.SendAsync($"$iothub/twin/res/{change.Status.ToString(CultureInfo.InvariantCulture)}/?$rid={rid}", Encoding.UTF8.GetBytes(TwinError(404001, change.Message!).ToJsonString())).ConfigureAwait(false);
        }
    }

    private static JsonObject TwinError(int code, string message) => new() { ["errorCode"] = code, ["message"] = message };

    private async ValueTask<bool> SendAsync(string clientId, string topic, byte[] payload)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        try
        {
            var session = await server.GetSessionAsync(clientId).ConfigureAwait(false);
            return session is not null && session.TryEnqueueApplicationMessage(message, out _);
        }
        catch (InvalidOperationException)
        {
            return false; // the device disconnected meanwhile
        }
    }

    private static HubDeviceConnection? Session(IDictionary items) => items[SessionKey] as HubDeviceConnection;

    [LoggerMessage(Level = LogLevel.Information, Message = "Hub MQTT connection of {DeviceId} to {Hub} refused: {Reason}")]
    private partial void LogRefused(string deviceId, string hub, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hub MQTT device {DeviceId} published to '{Topic}', which is not a device topic; disconnecting it")]
    private partial void LogBadTopic(string deviceId, string topic);
}
