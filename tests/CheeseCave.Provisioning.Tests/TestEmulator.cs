using CheeseCave.Emulator.Hosting;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Configuration;

namespace CheeseCave.Provisioning.Tests;

/// <summary>An in-process emulator (real sockets, real TLS) and provisioning clients pointed at it.</summary>
public sealed class TestEmulator : IAsyncDisposable
{
    private TestEmulator(EmulatorServer server)
    {
        Server = server;
        Connection = ProvisioningConnection.ForEmulator(new EmulatorConnectionSettings
        {
            ArmEndpoint = new Uri(server.Endpoints.ArmEndpoint),
            SubscriptionId = server.Endpoints.SubscriptionId,
            BearerToken = server.Endpoints.BearerToken,
            ResourceGroup = server.Endpoints.ResourceGroup,
            DeviceProvisioningHost = server.Endpoints.DeviceProvisioningHost,
            MqttHost = server.Endpoints.MqttHost,
            TrustBundlePath = server.Endpoints.TrustBundle,
        });
    }

    public EmulatorServer Server { get; }

    public ProvisioningConnection Connection { get; }

    public string ResourceGroup => Server.Endpoints.ResourceGroup;

    public static async Task<TestEmulator> StartAsync(Action<EmulatorOptions>? configure = null)
    {
        var options = new EmulatorOptions { InMemory = true, HttpsPort = 0, MqttPort = 0 };
        configure?.Invoke(options);
        return new TestEmulator(await EmulatorServer.StartAsync(options));
    }

    /// <summary>Small delays so retries cost milliseconds in tests.</summary>
    public static ProvisioningRetryOptions FastRetry(int maxRetries = 6) => new()
    {
        MaxRetries = maxRetries,
        Delay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromMilliseconds(50),
        NetworkTimeout = TimeSpan.FromSeconds(20),
    };

    public ArmProvisioningClient Arm(int maxRetries = 6) =>
        new(Connection, new ArmProvisioningClientOptions { Retry = FastRetry(maxRetries), OperationPollInterval = TimeSpan.FromMilliseconds(50) });

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>One emulator shared by the tests of a class.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public TestEmulator Emulator { get; private set; } = null!;

    public async Task InitializeAsync() => Emulator = await TestEmulator.StartAsync();

    public async Task DisposeAsync() => await Emulator.DisposeAsync();
}
