using System.Net;
using System.Net.Sockets;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>A port free on 127.0.0.1 right now, for servers that must be told their port up front (nginx, a child process).</summary>
internal static class LoopbackPorts
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
