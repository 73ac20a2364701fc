using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Emulator.Hosting;
using MQTTnet.Adapter;
using MQTTnet.Channel;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Server;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// An MQTTnet server adapter that does the TLS handshake itself. MQTTnet's own TLS listener keeps only the client's
/// leaf (SslStream.RemoteCertificate); DPS rules need the intermediates the device sent too, and those are only
/// visible in the validation callback's chain.ChainPolicy.ExtraStore (docs/toolchain.md §8). So this adapter
/// captures them there, asks for a client certificate without ever failing the handshake (a bad chain must get a
/// DPS JSON error, not a TLS alert), and hands MQTTnet the finished stream.
/// </summary>
internal sealed class MqttTlsServerAdapter(IPAddress address, int port, EmulatorTls tls) : IMqttServerAdapter
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(15);
    private readonly ConditionalWeakTable<IMqttChannelAdapter, PeerCertificates> _peers = new();
    private readonly SslStreamCertificateContext _serverCertificate = SslStreamCertificateContext.Create(tls.ServerCertificate, [tls.CaCertificate], offline: true);
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task? _acceptLoop;
    private MqttServerOptions? _options;
    private IMqttNetLogger? _logger;

    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    /// <summary>Raised when a connection that reached MQTT ends, whatever the broker's session does.</summary>
    public event Action<IMqttChannelAdapter>? ChannelClosed;

    /// <summary>The port actually listened on (the configured one, or the free port picked for 0).</summary>
    public int Port { get; private set; }

    /// <summary>The certificates the device of this connection presented, or null.</summary>
    public PeerCertificates? PeerOf(IMqttChannelAdapter adapter) => _peers.TryGetValue(adapter, out var peer) ? peer : null;

    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        _options = options;
        _logger = logger;
        var listener = new TcpListener(address, port);
        try
        {
            listener.Start();
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new IOException($"MQTT port {port} on {address} is already in use.", ex);
        }

        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _stop = new CancellationTokenSource();
        var token = _stop.Token;
        _acceptLoop = Task.Run(() => AcceptLoopAsync(listener, options, logger, token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync(TcpListener listener, MqttServerOptions options, IMqttNetLogger logger, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (token.IsCancellationRequested) return;
                continue;
            }

            _ = Task.Run(() => HandleConnectionAsync(socket, options, logger, token), CancellationToken.None);
        }
    }

    private async Task HandleConnectionAsync(Socket socket, MqttServerOptions options, IMqttNetLogger logger, CancellationToken token)
    {
        socket.NoDelay = true;
        var localEndPoint = socket.LocalEndPoint;
        var remoteEndPoint = socket.RemoteEndPoint;
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            PeerCertificates? peer = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(token))
            {
                timeout.CancelAfter(HandshakeTimeout);
                try
                {
                    await ssl.AuthenticateAsServerAsync(DeviceTls.ServerOptions(_serverCertificate, captured => peer = captured), timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or SocketException)
                {
                    return; // not a TLS client, or it gave up: nothing to answer
                }
            }

            await RunAsync(new MqttTcpChannel(ssl, localEndPoint, remoteEndPoint, peer?.Leaf), peer, options, logger).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
            // the device went away
        }
        finally
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Serves MQTT over a WebSocket that the HTTPS endpoint accepted (its TLS handshake captured the client chain the
    /// same way), with the same broker, sessions and rules as the TLS port.
    /// </summary>
    public Task RunWebSocketAsync(System.Net.WebSockets.WebSocket webSocket, EndPoint? remoteEndPoint, PeerCertificates? peer)
    {
        ArgumentNullException.ThrowIfNull(webSocket);
        if (_options is null || _logger is null) throw new InvalidOperationException("The MQTT server is not started.");
        return RunAsync(new MqttWebSocketChannel(webSocket, remoteEndPoint, isSecureConnection: true, peer?.Leaf), peer, _options, _logger);
    }

    private async Task RunAsync(IMqttChannel channel, PeerCertificates? peer, MqttServerOptions options, IMqttNetLogger logger)
    {
        var handler = ClientHandler;
        if (handler is null) return;
        var formatter = new MqttPacketFormatterAdapter(new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax));
        using var adapter = new MqttChannelAdapter(channel, formatter, logger);
        if (peer is not null) _peers.AddOrUpdate(adapter, peer);
        try
        {
            await handler(adapter).ConfigureAwait(false);
        }
        finally
        {
            _peers.Remove(adapter);
            ChannelClosed?.Invoke(adapter);
        }
    }

    public async Task StopAsync()
    {
        if (_stop is null) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        _stop.Dispose();
        _stop = null;
    }

    public void Dispose()
    {
        _stop?.Cancel();
        _listener?.Stop();
        _stop?.Dispose();
        _stop = null;
    }
}
