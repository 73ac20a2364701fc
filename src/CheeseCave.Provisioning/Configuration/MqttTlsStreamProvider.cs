using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using MQTTnet.Channel;

namespace CheeseCave.Provisioning.Configuration;

/// <summary>
/// TCP + TLS with a device's client chain and the connection's trust; MQTTnet speaks MQTT over the result. MQTTnet's
/// own TLS options take client certificates only as a collection or a selection callback, and .NET then sends just
/// the leaf, so DPS and IoT Hub (which need the intermediates) get the stream from here instead.
/// </summary>
internal sealed class MqttTlsStreamProvider(ProvisioningConnection connection, SslStreamCertificateContext clientCertificate, string targetHost) : IMqttClientStreamProvider
{
    public async Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            switch (brokerEndPoint)
            {
                case DnsEndPoint dns:
                    await tcp.ConnectAsync(dns.Host, dns.Port, cancellationToken).ConfigureAwait(false);
                    break;
                case IPEndPoint ip:
                    await tcp.ConnectAsync(ip, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new NotSupportedException($"Cannot connect to {brokerEndPoint}.");
            }

            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            try
            {
                await ssl.AuthenticateAsClientAsync(connection.CreateSslClientOptions(targetHost, clientCertificate), cancellationToken).ConfigureAwait(false);
                return ssl;
            }
            catch
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>"host:port", "[v6]:port" or a bare host (then <paramref name="defaultPort"/>).</summary>
    public static (string Host, int Port) SplitHost(string hostAndPort, int defaultPort = ProvisioningConnection.MqttTlsPort)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostAndPort);
        var colon = hostAndPort.LastIndexOf(':');
        if (colon > 0 && !hostAndPort.EndsWith(']') && int.TryParse(hostAndPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return (hostAndPort[..colon].Trim('[', ']'), port);
        }

        return (hostAndPort.Trim('[', ']'), defaultPort);
    }
}
