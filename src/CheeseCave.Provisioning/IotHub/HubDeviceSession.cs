using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CheeseCave.Provisioning.Errors;
using MQTTnet;
using MQTTnet.Protocol;

namespace CheeseCave.Provisioning.IotHub;

/// <summary>
/// A device connected to its hub (made by <see cref="HubDeviceClient.ConnectAsync"/>): sends telemetry to
/// <c>devices/{id}/messages/events/{properties}</c> with QoS 1 (done when the hub acknowledges it) and reads the
/// twin with <c>$iothub/twin/GET/?$rid=</c>. Dispose disconnects.
/// </summary>
public sealed partial class HubDeviceSession : IAsyncDisposable
{
    private const string TwinResponses = "$iothub/twin/res/#";

    private readonly IMqttClient _client;
    private readonly HubDeviceClientOptions _options;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<(int Status, string Body)>> _pending = new(StringComparer.Ordinal);
    private int _disposed;

    internal HubDeviceSession(IMqttClient client, string hubHostName, string deviceId, string endpoint, HubDeviceClientOptions options)
    {
        _client = client;
        _options = options;
        HubHostName = hubHostName;
        DeviceId = deviceId;
        Endpoint = endpoint;
        client.ApplicationMessageReceivedAsync += e =>
        {
            OnMessage(e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString());
            return Task.CompletedTask;
        };
        client.DisconnectedAsync += _ =>
        {
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new IOException("The hub closed the MQTT connection before it answered."));
            }

            return Task.CompletedTask;
        };
    }

    public string HubHostName { get; }

    public string DeviceId { get; }

    /// <summary>Where the TCP connection went (host:port).</summary>
    public string Endpoint { get; }

    public bool IsConnected => _client.IsConnected;

    internal Task SubscribeAsync(CancellationToken cancellationToken) =>
        _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(TwinResponses, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);

    /// <summary>Sends one message with QoS 1; returns when the hub acknowledged it.</summary>
    public async Task<HubTelemetrySent> SendTelemetryAsync(HubTelemetryMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var messageId = message.MessageId ?? Guid.NewGuid().ToString();
        var bag = new List<string>
        {
            "$.mid=" + Uri.EscapeDataString(messageId),
            "$.ct=" + Uri.EscapeDataString(message.ContentType),
            "$.ce=" + Uri.EscapeDataString(message.ContentEncoding),
        };
        bag.AddRange(message.Properties.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        var body = Encoding.UTF8.GetBytes(message.Body);
        var action = $"send telemetry from device '{DeviceId}' to IoT hub '{HubHostName}'";
        await WithTimeoutAsync(action, async token =>
        {
            var result = await _client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic($"devices/{DeviceId}/messages/events/{string.Join('&', bag)}")
                .WithPayload(body)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build(), token).ConfigureAwait(false);
            if (!result.IsSuccess)
            {
                throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Device, 400, $"Could not {action}: the hub did not accept it ({result.ReasonCode}).", result.ReasonCode.ToString()));
            }

            return 0;
        }, cancellationToken).ConfigureAwait(false);
        return new HubTelemetrySent(messageId, _options.TimeProvider.GetUtcNow(), body.Length);
    }

    /// <summary>The twin's desired and reported properties with their versions, as the hub answers the device.</summary>
    public Task<DeviceTwinProperties> GetTwinAsync(CancellationToken cancellationToken = default)
    {
        var action = $"read the twin of device '{DeviceId}' from IoT hub '{HubHostName}'";
        return WithTimeoutAsync(action, async token =>
        {
            var rid = Guid.NewGuid().ToString("N");
            var answer = new TaskCompletionSource<(int Status, string Body)>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[rid] = answer;
            try
            {
                // The SDKs publish a single space as the GET body; the hub ignores it.
                await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"$iothub/twin/GET/?$rid={rid}").WithPayload(" ")
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), token).ConfigureAwait(false);
                var (status, body) = await answer.Task.WaitAsync(token).ConfigureAwait(false);
                if (status != 200)
                {
                    throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Device, status,
                        $"Could not {action}: the hub answered {status}{(string.IsNullOrWhiteSpace(body) ? "" : $" ({body.Trim()})")}.", null, rid,
                        ProvisioningErrorClassifier.IsTransientStatus(status)));
                }

                return ParseTwin(body, action);
            }
            finally
            {
                _pending.TryRemove(rid, out _);
            }
        }, cancellationToken);
    }

    private async Task<T> WithTimeoutAsync<T>(string action, Func<CancellationToken, Task<T>> run, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.Retry.NetworkTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await run(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Device, 0,
                $"Could not {action}: the hub did not answer within {_options.Retry.NetworkTimeout.TotalSeconds:0.#} s.", null, null, IsTransient: true), ex);
        }
        catch (Exception ex) when (ex is not ProvisioningException && !cancellationToken.IsCancellationRequested
            && ProvisioningErrorClassifier.FromException(ProvisioningSurface.Device, ex, null, action) is { } mapped)
        {
            throw mapped;
        }
    }

    internal static DeviceTwinProperties ParseTwin(string body, string action)
    {
        try
        {
            var root = JsonNode.Parse(body) as JsonObject ?? throw new JsonException("not an object");
            var desired = Section(root["desired"], out var desiredVersion);
            var reported = Section(root["reported"], out var reportedVersion);
            return new DeviceTwinProperties(desired, desiredVersion, reported, reportedVersion);
        }
        catch (JsonException ex)
        {
            throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Device, 200, $"Could not {action}: the hub's answer is not a twin ({ex.Message})."), ex);
        }
    }

    /// <summary>The properties without "$version" (kept apart), as the device sees them.</summary>
    private static JsonObject Section(JsonNode? node, out long version)
    {
        version = 0;
        var result = new JsonObject();
        if (node is not JsonObject section) return result;
        foreach (var (key, value) in section)
        {
            if (key == "$version")
            {
                version = value is JsonValue v && v.TryGetValue<long>(out var n) ? n : 0;
            }
            else
            {
                result[key] = value?.DeepClone();
            }
        }

        return result;
    }

    /// <summary>$iothub/twin/res/{status}/?$rid={rid}[&amp;$version=n]</summary>
    private void OnMessage(string? topic, string? payload)
    {
        var match = TwinResponse().Match(topic ?? string.Empty);
        if (!match.Success) return;
        var rid = match.Groups[2].Value.Split('&').Select(p => p.Split('=', 2)).FirstOrDefault(p => p[0] == "$rid") is { Length: 2 } pair
            ? Uri.UnescapeDataString(pair[1])
            : null;
        if (rid is not null && _pending.TryGetValue(rid, out var waiting))
        {
            waiting.TrySetResult((int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), payload ?? string.Empty));
        }
    }

    [GeneratedRegex(@"^\$iothub/twin/res/(\d+)/\?(.*)$")]
    private static partial Regex TwinResponse();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            if (_client.IsConnected)
            {
                await _client.TryDisconnectAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _client.Dispose();
        }
    }
}
