using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Hub;

/// <summary>How a direct method call ended: the device's status and payload, or IoT Hub's error.</summary>
internal sealed record MethodOutcome(int Status, JsonNode? Payload, int? ErrorCode = null, string? ErrorName = null, string? Message = null)
{
    public bool Answered => ErrorCode is null;
}

/// <summary>
/// Direct methods: the request goes to the device on $iothub/methods/POST/{method}/?$rid={rid}, and the device's
/// answer on $iothub/methods/res/{status}/?$rid={rid} completes the call. A device that is not connected (or has not
/// subscribed to methods) is answered at once with 404103, as IoT Hub does with connectTimeoutInSeconds 0; no answer
/// within responseTimeoutInSeconds is 504101.
/// </summary>
internal sealed class DirectMethods(HubConnections connections, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<(int Status, byte[] Payload)>> _pending = new(StringComparer.Ordinal);
    private long _lastRequestId;

    public async Task<MethodOutcome> InvokeAsync(string hubName, string deviceId, string methodName, JsonNode? payload, TimeSpan responseTimeout, CancellationToken cancellationToken)
    {
        var connection = connections.Find(hubName, deviceId);
        if (connection is not { MethodsSubscribed: true })
        {
            return new MethodOutcome(404, null, 404103, "DeviceNotOnline", $"Timed out waiting for device {deviceId} to connect: it is not connected, or it has not subscribed to $iothub/methods/POST/#.");
        }

        var rid = Interlocked.Increment(ref _lastRequestId).ToString("x", CultureInfo.InvariantCulture);
        var key = PendingKey(connection.Identity, rid);
        var answer = new TaskCompletionSource<(int Status, byte[] Payload)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[key] = answer;
        try
        {
            var topic = $"$iothub/methods/POST/{methodName}/?$rid={rid}";
            var body = Encoding.UTF8.GetBytes(payload?.ToJsonString() ?? "null");
            if (!await connection.SendAsync(topic, body).ConfigureAwait(false))
            {
                return new MethodOutcome(404, null, 404103, "DeviceNotOnline", $"Device {deviceId} disconnected before the method request could be sent.");
            }

            using var timeout = new CancellationTokenSource(responseTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                var (status, answerPayload) = await answer.Task.WaitAsync(linked.Token).ConfigureAwait(false);
                return new MethodOutcome(status, ParsePayload(answerPayload));
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return new MethodOutcome(504, null, 504101, "GatewayTimeout",
                    $"Timed out waiting for the response from device {deviceId} to method '{methodName}' ({responseTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s).");
            }
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    /// <summary>The device's answer; only the device the request went to can complete it.</summary>
    public bool Complete(HubDeviceIdentity identity, string rid, int status, byte[] payload) =>
        _pending.TryRemove(PendingKey(identity, rid), out var answer) && answer.TrySetResult((status, payload));

    private static string PendingKey(HubDeviceIdentity identity, string rid) => identity.Key + "|" + rid;

    private static JsonNode? ParsePayload(byte[] payload)
    {
        if (payload.Length == 0) return null;
        try
        {
            return JsonNode.Parse(payload);
        }
        catch (JsonException)
        {
            return JsonValue.Create(Encoding.UTF8.GetString(payload)); // not JSON: handed back as a string
        }
    }
}
