using System.Net;
using Amqp;
using Amqp.Listener;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Hub;

/// <summary>
/// AMQP 1.0 over TLS for the hub's service side, as far as the service SDKs need it to send cloud-to-device messages
/// (azure-iothub's Client.send): claims-based authorisation with a put-token on $cbs, then /messages/devicebound.
/// No SASL layer (the SDK opens plain AMQP inside TLS; SASL ANONYMOUS is accepted too), no feedback, no telemetry.
/// </summary>
internal sealed class HubAmqpListener : IDisposable
{
    private readonly ContainerHost _host;

    private HubAmqpListener(ContainerHost host, int port)
    {
        _host = host;
        Port = port;
    }

    public int Port { get; }

    public static HubAmqpListener Start(EmulatorContext context, IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(address);
        if (port == 0)
        {
            port = FreePort(address); // AMQPNetLite does not report the port it picked for 0
        }

        var host = new ContainerHost(new Address(address.ToString(), port, null, null, "/", "amqps"));
        host.Listeners[0].SSL.Certificate = context.Tls.ServerCertificate;
        host.RegisterLinkProcessor(new HubAmqpLinks(context));
        try
        {
            host.Open();
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new IOException($"AMQP port {port} on {address} is already in use.", ex);
        }

        return new HubAmqpListener(host, port);
    }

    private static int FreePort(IPAddress address)
    {
        var probe = new System.Net.Sockets.TcpListener(address, 0);
        probe.Start();
        var free = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return free;
    }

    public void Dispose() => _host.Close();
}
