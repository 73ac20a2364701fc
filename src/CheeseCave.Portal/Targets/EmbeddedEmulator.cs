using System.Diagnostics;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Portal.Configuration;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Targets;

/// <summary>
/// Starts the DPS + IoT Hub emulator inside the portal process when the target is the emulator (the default), so
/// the whole flow runs offline with the same client code the portal uses for Azure. Its state lives under
/// {DataDirectory}/emulator and survives restarts.
/// </summary>
public sealed partial class EmbeddedEmulator(
    IOptions<CheeseCaveOptions> options, IHostEnvironment environment, ILogger<EmbeddedEmulator> logger, TimeProvider time, IDataProtectionProvider dataProtection)
    : IHostedService, IAsyncDisposable
{
    public const string CaKeyPurpose = "CheeseCave.Emulator.CaKey";

    private EmulatorServer? _server;

    /// <summary>Null until started, and when the portal targets Azure.</summary>
    public EmulatorEndpoints? Endpoints => _server?.Endpoints;

    public TimeSpan StartupTime { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Target != ProvisioningTarget.Emulator)
        {
            return;
        }

        var stopwatch = Stopwatch.StartNew();
        var dataDirectory = Path.Combine(settings.ResolveDataDirectory(environment.ContentRootPath), "emulator");
        try
        {
            _server = await EmulatorServer.StartAsync(new EmulatorOptions
            {
                DataDirectory = dataDirectory,
                HttpsPort = settings.Emulator.HttpsPort,
                MqttPort = settings.Emulator.MqttPort,
                BindAddress = settings.Emulator.BindAddress,
                Faults = settings.Emulator.Faults,
                // The emulator's TLS CA key is kept encrypted with the portal's key ring, like the portal's CA keys.
                CaKeyProtector = dataProtection.CreateProtector(CaKeyPurpose),
                Timing = settings.Emulator.Timing,
            }, time, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException(
                $"The built-in emulator could not listen on {settings.Emulator.BindAddress}:{settings.Emulator.HttpsPort} (MQTT {settings.Emulator.MqttPort}): {ex.Message} "
                + "Stop the other process, or set CheeseCave:Emulator:HttpsPort and CheeseCave:Emulator:MqttPort to free ports (0 picks any).", ex);
        }

        StartupTime = stopwatch.Elapsed;
        LogReady(logger, (int)StartupTime.TotalMilliseconds, _server.Endpoints.ArmEndpoint, _server.Endpoints.MqttHost ?? "off", dataDirectory);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Built-in emulator ready in {Milliseconds} ms at {ArmEndpoint} (MQTT {MqttHost}); data in {DataDirectory}")]
    private static partial void LogReady(ILogger logger, int milliseconds, string armEndpoint, string mqttHost, string dataDirectory);

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        var server = Interlocked.Exchange(ref _server, null);
        if (server is not null)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
