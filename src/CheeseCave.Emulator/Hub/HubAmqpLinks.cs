using System.Runtime.CompilerServices;
using System.Text;
using Amqp;
using Amqp.Framing;
using Amqp.Listener;
using Amqp.Types;

namespace CheeseCave.Emulator.Hub;

/// <summary>
/// The links a service opens on the hub's AMQP port, as the IoT Hub service SDKs use them: "$cbs" (a sender for
/// put-token requests and a receiver for their answers) and "/messages/devicebound" (cloud-to-device sends, allowed
/// once a put-token with ServiceConnect for the hub succeeded on this connection). Anything else is refused.
/// </summary>
internal sealed class HubAmqpLinks(Hosting.EmulatorContext context) : ILinkProcessor
{
    private const string Cbs = "$cbs";
    private const string DeviceBound = "/messages/devicebound";
    private static readonly string[] ServiceConnect = ["ServiceConnect"];

    /// <summary>Per connection: the CBS answer link and the hub a put-token authorised.</summary>
    private readonly ConditionalWeakTable<Connection, ConnectionState> _connections = new();

    public void Process(AttachContext attachContext)
    {
        ArgumentNullException.ThrowIfNull(attachContext);
        var link = attachContext.Link;
        var state = _connections.GetValue(link.Session.Connection, static _ => new ConnectionState());
        var peerSends = !attachContext.Attach.Role; // role false: the peer is the sender
        var address = peerSends ? (attachContext.Attach.Target as Target)?.Address : (attachContext.Attach.Source as Source)?.Address;
        if (peerSends && address == Cbs)
        {
            attachContext.Complete(new Receiving(message => PutToken(state, message)), 100);
        }
        else if (!peerSends && address == Cbs)
        {
            var answering = new Answering(link);
            state.CbsAnswers = answering;
            attachContext.Complete(answering, 0);
        }
        else if (peerSends && string.Equals(address, DeviceBound, StringComparison.OrdinalIgnoreCase))
        {
            attachContext.Complete(new Receiving(message => SendToDeviceAsync(state, message)), 100);
        }
        else
        {
            attachContext.Complete(new Error(ErrorCode.NotFound) { Description = $"The emulated hub has no AMQP node '{address}': it serves {Cbs} and {DeviceBound}." });
        }
    }

    private Task<Error?> PutToken(ConnectionState state, Message request)
    {
        var token = request.Body as string;
        var (hubName, refusal) = HubServiceAuthorization.Check(context, token, ServiceConnect, "sending cloud-to-device messages");
        if (hubName is not null) state.HubName = hubName;
        var answer = new Message
        {
            Properties = new Properties { CorrelationId = request.Properties?.MessageId },
            ApplicationProperties = new ApplicationProperties(),
        };
        answer.ApplicationProperties["status-code"] = refusal is null ? 200 : 401;
        answer.ApplicationProperties["status-description"] = refusal ?? "OK";
        state.CbsAnswers?.Send(answer);
        return Task.FromResult<Error?>(null);
    }

    private async Task<Error?> SendToDeviceAsync(ConnectionState state, Message message)
    {
        if (state.HubName is not { } hubName)
        {
            return new Error(ErrorCode.UnauthorizedAccess) { Description = "Send a put-token on $cbs with a hub SAS that has ServiceConnect first." };
        }

        // "to" is /devices/{deviceId}/messages/devicebound
        var parts = (message.Properties?.To ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 4 || parts[0] != "devices" || context.Store.HubDevices.Get(Hosting.ArmKeys.HubDevice(hubName, Uri.UnescapeDataString(parts[1]))) is null)
        {
            return new Error(ErrorCode.NotFound) { Description = $"No device '{message.Properties?.To}' in IoT hub {hubName}: 'to' must be /devices/{{deviceId}}/messages/devicebound." };
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in message.ApplicationProperties?.Map ?? [])
        {
            properties[key.ToString() ?? string.Empty] = value?.ToString() ?? string.Empty;
        }

        var body = message.Body switch
        {
            byte[] bytes => bytes,
            string text => Encoding.UTF8.GetBytes(text),
            null => [],
            var other => Encoding.UTF8.GetBytes(other.ToString() ?? string.Empty),
        };
        var sent = new CloudToDeviceMessage(message.Properties?.MessageId ?? Guid.NewGuid().ToString(), body, properties, message.Properties?.CorrelationId, context.Time.GetUtcNow());
        return await context.Hub.CloudToDevice.SendAsync(hubName, Uri.UnescapeDataString(parts[1]), sent).ConfigureAwait(false)
            ? null
            : new Error(new Symbol("com.microsoft:device-container-throttled")) { Description = $"The device already has {CloudToDeviceQueue.MaxQueuedPerDevice} messages waiting." };
    }

    private sealed class ConnectionState
    {
        public volatile Answering? CbsAnswers;

        public volatile string? HubName;
    }

    /// <summary>A link the peer sends on: each message is handled, then accepted or rejected with the handler's error.</summary>
    private sealed class Receiving(Func<Message, Task<Error?>> handle) : LinkEndpoint
    {
        public override void OnMessage(MessageContext messageContext)
        {
            _ = CompleteAsync(messageContext);
        }

        private async Task CompleteAsync(MessageContext messageContext)
        {
            Error? error;
            try
            {
                error = await handle(messageContext.Message).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or AmqpException or FormatException)
            {
                error = new Error(ErrorCode.InternalError) { Description = ex.Message };
            }

            if (error is null) messageContext.Complete();
            else messageContext.Complete(error);
        }

        public override void OnFlow(FlowContext flowContext)
        {
        }

        public override void OnDisposition(DispositionContext dispositionContext)
        {
            ArgumentNullException.ThrowIfNull(dispositionContext);
            dispositionContext.Complete();
        }
    }

    /// <summary>The CBS answer link: answers wait for the peer's credit (sending without it breaks the link).</summary>
    private sealed class Answering(ListenerLink link) : LinkEndpoint
    {
        private readonly Queue<Message> _waiting = new();
        private int _credit;

        public void Send(Message answer)
        {
            lock (_waiting)
            {
                _waiting.Enqueue(answer);
                Drain();
            }
        }

        public override void OnMessage(MessageContext messageContext)
        {
        }

        public override void OnFlow(FlowContext flowContext)
        {
            ArgumentNullException.ThrowIfNull(flowContext);
            lock (_waiting)
            {
                _credit = flowContext.Messages;
                Drain();
            }
        }

        private void Drain()
        {
            while (_credit > 0 && _waiting.TryDequeue(out var next))
            {
                _credit--;
                link.SendMessage(next);
            }
        }

        public override void OnDisposition(DispositionContext dispositionContext)
        {
            ArgumentNullException.ThrowIfNull(dispositionContext);
            dispositionContext.Complete();
        }
    }
}
