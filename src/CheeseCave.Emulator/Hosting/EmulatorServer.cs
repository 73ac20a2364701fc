using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Emulator.Arm;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Service;
using CheeseCave.Emulator.State;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace CheeseCave.Emulator.Hosting;

/// <summary>
/// A running emulator: one HTTPS endpoint for ARM, the DPS service API and the device API, plus MQTT for devices.
/// Started standalone by Program or embedded by the portal and the tests.
/// </summary>
public sealed class EmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _temporaryDirectory;
    private MqttDeviceServer? _mqtt;
    private Hub.HubAmqpListener? _amqp;

    private EmulatorServer(WebApplication app, EmulatorContext context, string dataDirectory, string? temporaryDirectory)
    {
        _app = app;
        Context = context;
        DataDirectory = dataDirectory;
        _temporaryDirectory = temporaryDirectory;
    }

    internal EmulatorContext Context { get; }

    public string DataDirectory { get; }

    public EmulatorEndpoints Endpoints { get; private set; } = null!;

    public int HttpsPort { get; private set; }

    public int? MqttPort { get; private set; }

    /// <summary>Signalled when the host is asked to stop (SIGTERM, Ctrl+C in the standalone process).</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    public static async Task<EmulatorServer> StartAsync(EmulatorOptions options, TimeProvider? time = null, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        time ??= TimeProvider.System;
        string? temporary = null;
        var directory = options.DataDirectory;
        if (directory is null)
        {
            if (!options.InMemory)
            {
                throw new ArgumentException("A data directory is required unless the emulator runs in memory.", nameof(options));
            }

            directory = temporary = Path.Combine(Path.GetTempPath(), "cheesecave-emulator-" + Guid.NewGuid().ToString("N"));
        }

        directory = OwnerOnly.CreateFolder(Path.GetFullPath(directory));
        if (!IPAddress.TryParse(options.BindAddress, out var bindAddress))
        {
            throw new ArgumentException($"'{options.BindAddress}' is not an IP address to listen on.", nameof(options));
        }

        _ = EmulatorTimings.IsAzureLike(options.Timing); // a wrong Timing fails here, before anything listens
        var store = options.InMemory ? EmulatorStore.InMemory() : await EmulatorStore.OpenAsync(Path.Combine(directory, "state"), cancellationToken).ConfigureAwait(false);
        var tls = EmulatorTls.LoadOrCreate(directory, [options.BindAddress], time, options.CaKeyProtector);
        var context = new EmulatorContext(options, store, time, tls, Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant());
        await Seeding.SeedAsync(context).ConfigureAwait(false);

        // "--urls=" makes it listen only where ConfigureKestrel says, whatever ASPNETCORE_URLS a host process (the portal)
        // carries; web host settings are read when the builder is created, so it must come in as an argument.
        // The content root is the data folder, not the current directory: otherwise the appsettings.json of
        // whatever folder the emulator (or the portal embedding it) starts in configures it too, e.g. the portal's
        // Logging:LogLevel:Default=Information overrode the Warning level below (two console lines per device
        // registration), and a Kestrel:Endpoints section there would make the emulator listen on the portal's ports.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(EmulatorServer).Assembly.GetName().Name,
            ContentRootPath = directory,
            Args = ["--urls=", "--http_ports=", "--https_ports="],
        });
        builder.Logging.ClearProviders();
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        }
        else
        {
            logging(builder.Logging);
        }

        builder.Services.AddSingleton(context);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton<MqttWebSocketBridge>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(bindAddress, options.HttpsPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                // Built once, not per handshake: SslStreamCertificateContext.Create builds the server chain, and a
                // new context per connection also defeats the native TLS context cache (profiled: among the largest
                // TLS costs of a device registration on a new connection, which is how devices register).
                var serverCertificate = SslStreamCertificateContext.Create(tls.ServerCertificate, [tls.CaCertificate], offline: true);
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = connection => ValueTask.FromResult(CreateTlsOptions(serverCertificate, connection)),
                });
            });
        });

        var app = builder.Build();
        app.UseMiddleware<FaultInjectionMiddleware>();
        app.UseMiddleware<ArmAuthenticationMiddleware>();
        app.UseWebSockets();
        app.MapMqttWebSocket();
        app.MapArmEndpoints();
        app.MapServiceEndpoints();
        app.MapDeviceEndpoints();
        app.MapFallback((HttpContext http) => ArmErrors.NoSuchRoute(http.Request.Method, http.Request.Path).ToResult());

        var server = new EmulatorServer(app, context, directory, temporary);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.HttpsPort = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        var host = HostFor(options.BindAddress);
        context.HttpsHost = server.HttpsPort == 443 ? host : $"{host}:{server.HttpsPort}";
        if (options.MqttPort >= 0)
        {
            var mqtt = await MqttDeviceServer.StartAsync(context, bindAddress, options.MqttPort, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<MqttDeviceServer>(), cancellationToken).ConfigureAwait(false);
            server._mqtt = mqtt;
            app.Services.GetRequiredService<MqttWebSocketBridge>().Server = mqtt;
            server.MqttPort = mqtt.Port;
            context.MqttHost = $"{host}:{mqtt.Port}";
        }

        if (options.AmqpPort >= 0)
        {
            server._amqp = Hub.HubAmqpListener.Start(context, bindAddress, options.AmqpPort);
        }

        server.Endpoints = new EmulatorEndpoints(
            ArmEndpoint: $"https://{context.HttpsHost}",
            SubscriptionId: options.SubscriptionId,
            ResourceGroup: options.ResourceGroup,
            TrustBundle: tls.TrustBundlePath,
            DeviceProvisioningHost: context.HttpsHost,
            ServiceHost: context.HttpsHost,
            MqttHost: server.MqttPort is null ? null : context.MqttHost,
            BearerToken: context.BearerToken)
        {
            AmqpHost = server._amqp is { } amqp ? $"{host}:{amqp.Port}" : null,
        };
        server.Endpoints.Write(directory);
        return server;
    }

    /// <summary>The host name clients use: "localhost" for loopback (it is in the certificate), else the address.</summary>
    private static string HostFor(string bindAddress) =>
        bindAddress is "127.0.0.1" or "::1" or "0.0.0.0" or "::" ? "localhost" : bindAddress;

    private static SslServerAuthenticationOptions CreateTlsOptions(SslStreamCertificateContext serverCertificate, TlsHandshakeCallbackContext connection) =>
        DeviceTls.ServerOptions(serverCertificate, peer => connection.Connection.Items[PeerCertificates.ItemKey] = peer);

    public async ValueTask DisposeAsync()
    {
        if (_mqtt is not null)
        {
            await _mqtt.DisposeAsync().ConfigureAwait(false);
        }

        _amqp?.Dispose();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await Context.Store.DisposeAsync().ConfigureAwait(false);
        Context.Tls.Dispose();
        if (_temporaryDirectory is not null)
        {
            try
            {
                Directory.Delete(_temporaryDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
