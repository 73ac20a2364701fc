using CheeseCave.Emulator.Hosting;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DeviceRegistration;
using CheeseCave.Provisioning.DpsService;

namespace CheeseCave.Provisioning.Tests.Infrastructure;

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

    public ArmProvisioningClient Arm(int maxRetries = 6, Func<HttpMessageHandler, HttpMessageHandler>? wrap = null) =>
        new(Connection, new ArmProvisioningClientOptions { Retry = FastRetry(maxRetries), OperationPollInterval = TimeSpan.FromMilliseconds(50), WrapHandler = wrap });

    public DpsServiceClient Service(string connectionString, int maxRetries = 6, Func<HttpMessageHandler, HttpMessageHandler>? wrap = null, TimeProvider? time = null) =>
        new(connectionString, Connection, new DpsServiceClientOptions { Retry = FastRetry(maxRetries), WrapHandler = wrap, TimeProvider = time ?? TimeProvider.System });

    public DeviceRegistrationClient Devices(int maxRetries = 6, TimeSpan? timeout = null) =>
        new(Connection, new DeviceRegistrationClientOptions
        {
            Retry = FastRetry(maxRetries),
            DefaultPollInterval = TimeSpan.FromMilliseconds(50),
            RegistrationTimeout = timeout ?? TimeSpan.FromSeconds(60),
        });

    /// <summary>Creates hub + DPS, links them, uploads and verifies a root CA and returns what the device steps need.</summary>
    public async Task<CaveSetup> SetUpCaveAsync(TestPki pki, ArmProvisioningClient? arm = null, string location = "eastus")
    {
        arm ??= Arm();
        var hubName = Unique("hub");
        var dpsName = Unique("dps");
        var hub = await arm.CreateIotHubAsync(new IotHubCreateOptions(ResourceGroup, hubName, location));
        var hubConnection = await arm.GetIotHubConnectionStringAsync(ResourceGroup, hubName);
        await arm.CreateProvisioningServiceAsync(new ProvisioningServiceCreateOptions(ResourceGroup, dpsName, location));
        await arm.LinkIotHubAsync(ResourceGroup, dpsName, new LinkIotHubOptions(hubConnection, location));
        await arm.UploadCertificateAsync(ResourceGroup, dpsName, "cave-root", pki.Root.Certificate);
        var code = await arm.GenerateVerificationCodeAsync(ResourceGroup, dpsName, "cave-root");
        using var verification = pki.VerificationCertificate(code.Code);
        await arm.VerifyCertificateAsync(ResourceGroup, dpsName, "cave-root", verification);
        var dps = (await arm.GetProvisioningServiceAsync(ResourceGroup, dpsName))!;
        var serviceConnection = await arm.GetProvisioningServiceConnectionStringAsync(ResourceGroup, dpsName);
        return new CaveSetup(hub, dps, serviceConnection);
    }

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

public sealed record CaveSetup(IotHubInfo Hub, ProvisioningServiceInfo Dps, string ServiceConnectionString)
{
    public string IdScope => Dps.IdScope!;
}

/// <summary>One emulator shared by the tests of a class.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public TestEmulator Emulator { get; private set; } = null!;

    public async Task InitializeAsync() => Emulator = await TestEmulator.StartAsync();

    public async Task DisposeAsync() => await Emulator.DisposeAsync();
}
