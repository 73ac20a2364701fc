using System.Diagnostics;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DeviceRegistration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.Errors;

/// <summary>The clients against the emulator's fault injection (429 with Retry-After, 503, dropped connections).</summary>
public sealed class ResilienceTests
{
    private static void Faults(EmulatorOptions options, Action<SurfaceFaults> set, bool arm = true, bool service = true, bool device = true)
    {
        options.Faults.Seed = 20240611;
        foreach (var (on, surface) in new[] { (arm, options.Faults.Arm), (service, options.Faults.Service), (device, options.Faults.Device) })
        {
            if (!on) continue;
            surface.RetryAfterSeconds = 0;
            set(surface);
        }
    }

    /// <summary>Everything after the ARM setup: an X.509 group and one device per transport.</summary>
    private static async Task<(DeviceRegistrationResult Https, DeviceRegistrationResult Mqtt, RecordingHandler Arm, RecordingHandler Service)> RunCaveAsync(TestEmulator emulator, TestPki pki, int maxRetries)
    {
        RecordingHandler? armRecorder = null, serviceRecorder = null;
        var setup = await emulator.SetUpCaveAsync(pki, emulator.Arm(maxRetries, wrap: inner => armRecorder = new RecordingHandler(inner)));
        using var service = emulator.Service(setup.ServiceConnectionString, maxRetries, wrap: inner => serviceRecorder = new RecordingHandler(inner));
        await service.CreateOrUpdateEnrollmentGroupAsync(new EnrollmentGroup { EnrollmentGroupId = "cave", Attestation = AttestationMechanism.FromCaReferences("cave-root") });
        await service.UpdateEnrollmentGroupAsync("cave", g => g.ProvisioningStatus = ProvisioningStatus.Enabled);
        var devices = emulator.Devices(maxRetries);
        var https = await devices.RegisterOverHttpsAsync(pki.Request(setup.IdScope, "cheddar-01"));
        var mqtt = await devices.RegisterOverMqttAsync(pki.Request(setup.IdScope, "cheddar-02"));
        Assert.Equal(2, (await service.QueryDeviceRegistrationStatesAsync("cave").ToListAsync()).Count);
        Assert.Equal(setup.Hub.HostName, https.AssignedHub);
        return (https, mqtt, armRecorder!, serviceRecorder!);
    }

    [Fact]
    public async Task At_a_30_percent_429_and_503_rate_the_flow_still_completes()
    {
        await using var emulator = await TestEmulator.StartAsync(o => Faults(o, s => { s.ThrottleRate = 0.15; s.UnavailableRate = 0.15; }));
        using var pki = new TestPki("Flaky");

        var (https, mqtt, arm, service) = await RunCaveAsync(emulator, pki, maxRetries: 10);

        Assert.True(https.IsAssigned);
        Assert.True(mqtt.IsAssigned);
        Assert.Contains(arm.Requests, r => r.Status is 429 or 503);
        Assert.Contains(service.Requests, r => r.Status is 429 or 503);
    }

    [Fact]
    public async Task Dropped_connections_are_retried_on_every_surface()
    {
        await using var emulator = await TestEmulator.StartAsync(o => Faults(o, s => s.DropConnectionRate = 0.25));
        using var pki = new TestPki("Dropped");

        var (https, mqtt, arm, service) = await RunCaveAsync(emulator, pki, maxRetries: 10);

        Assert.True(https.IsAssigned);
        Assert.True(mqtt.IsAssigned);
        Assert.True(arm.Attempts > arm.Requests.Count, "some ARM requests got no answer and were retried");
        Assert.True(service.Attempts > service.Requests.Count, "some service requests got no answer and were retried");
    }

    [Fact]
    public async Task When_ARM_always_throttles_the_client_gives_up_with_a_transient_429()
    {
        await using var emulator = await TestEmulator.StartAsync(o => Faults(o, s => s.ThrottleRate = 1, service: false, device: false));
        RecordingHandler? recorder = null;
        var arm = emulator.Arm(maxRetries: 2, wrap: inner => recorder = new RecordingHandler(inner));

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => arm.ListIotHubsAsync(emulator.ResourceGroup));

        Assert.True(ex.IsTransient);
        Assert.Equal(429, ex.Status);
        Assert.Equal("TooManyRequests", ex.ServiceErrorCode);
        Assert.Equal(TimeSpan.Zero, ex.RetryAfter);
        Assert.Equal(3, recorder!.Requests.Count); // the subscription lookup, tried 1 + 2 times
    }

    [Fact]
    public async Task When_ARM_always_drops_the_connection_the_client_gives_up_transient()
    {
        await using var emulator = await TestEmulator.StartAsync(o => Faults(o, s => s.DropConnectionRate = 1, service: false, device: false));
        var arm = emulator.Arm(maxRetries: 2);

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => arm.GetDefaultSubscriptionAsync());

        Assert.True(ex.IsTransient);
        Assert.Equal(0, ex.Status);
        Assert.Contains("gave up after 3 attempts", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("throttle", 429, "429001")]
    [InlineData("unavailable", 503, "503000")]
    [InlineData("drop", 0, null)]
    public async Task When_the_service_and_device_APIs_always_fail_the_clients_give_up_transient(string fault, int status, string? code)
    {
        await using var emulator = await TestEmulator.StartAsync(o => Faults(o, s =>
        {
            switch (fault)
            {
                case "throttle": s.ThrottleRate = 1; break;
                case "unavailable": s.UnavailableRate = 1; break;
                default: s.DropConnectionRate = 1; break;
            }
        }, arm: false));
        using var pki = new TestPki("Down" + fault);
        var setup = await emulator.SetUpCaveAsync(pki);
        RecordingHandler? recorder = null;
        using var service = emulator.Service(setup.ServiceConnectionString, maxRetries: 3, wrap: inner => recorder = new RecordingHandler(inner));
        var devices = emulator.Devices(maxRetries: 2);

        var serviceEx = await Assert.ThrowsAsync<ProvisioningException>(() => service.GetEnrollmentGroupAsync("any"));
        var httpsEx = await Assert.ThrowsAsync<ProvisioningException>(() => devices.RegisterOverHttpsAsync(pki.Request(setup.IdScope, "gouda-1")));
        var mqttEx = await Assert.ThrowsAsync<ProvisioningException>(() => devices.RegisterOverMqttAsync(pki.Request(setup.IdScope, "gouda-2")));

        foreach (var (ex, surface) in new[] { (serviceEx, ProvisioningSurface.Service), (httpsEx, ProvisioningSurface.Device), (mqttEx, ProvisioningSurface.Device) })
        {
            Assert.True(ex.IsTransient, ex.Message);
            Assert.Equal(surface, ex.Surface);
            Assert.Contains("gave up after", ex.Message, StringComparison.Ordinal);
            if (fault == "drop" && ex == mqttEx) continue; // MQTT: a dropped connection has no status
            Assert.Equal(status, ex.Status);
            Assert.Equal(code, ex.ServiceErrorCode);
        }

        Assert.Equal(4, recorder!.Attempts);
    }

    [Fact]
    public async Task Retry_after_from_the_service_is_honoured()
    {
        await using var emulator = await TestEmulator.StartAsync(o =>
        {
            Faults(o, s => s.ThrottleRate = 1, arm: false, device: false);
            o.Faults.Service.RetryAfterSeconds = 1;
        });
        using var service = new DpsServiceClient($"HostName={emulator.Server.Endpoints.ServiceHost};SharedAccessKeyName=x;SharedAccessKey={Convert.ToBase64String(new byte[32])}",
            emulator.Connection, new DpsServiceClientOptions { Retry = TestEmulator.FastRetry(1) });
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => service.GetEnrollmentGroupAsync("any"));

        Assert.Equal(TimeSpan.FromSeconds(1), ex.RetryAfter);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), $"waited only {watch.Elapsed}");
    }

    [Fact]
    public async Task Cancellation_is_never_retried()
    {
        await using var emulator = await TestEmulator.StartAsync(o => Faults(o, s => s.ThrottleRate = 1));
        RecordingHandler? recorder = null;
        using var service = new DpsServiceClient($"HostName={emulator.Server.Endpoints.ServiceHost};SharedAccessKeyName=x;SharedAccessKey={Convert.ToBase64String(new byte[32])}",
            emulator.Connection, new DpsServiceClientOptions
            {
                Retry = new ProvisioningRetryOptions { MaxRetries = 5, Delay = TimeSpan.FromSeconds(20), MaxDelay = TimeSpan.FromSeconds(20) },
                WrapHandler = inner => recorder = new RecordingHandler(inner),
            });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => service.GetEnrollmentGroupAsync("any", cancel.Token));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal(1, recorder!.Attempts);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => emulator.Arm().GetDefaultSubscriptionAsync(cancelled.Token));
        using var pki = new TestPki("Cancel");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => emulator.Devices().RegisterOverMqttAsync(pki.Request("0ne00000000", "x-1"), cancelled.Token));
    }

    [Fact]
    public async Task A_registration_that_never_finishes_times_out_as_transient()
    {
        await using var emulator = await TestEmulator.StartAsync(o => Faults(o, s => s.ThrottleRate = 1, arm: false, service: false));
        using var pki = new TestPki("Slow");
        var devices = emulator.Devices(maxRetries: 10_000, timeout: TimeSpan.FromMilliseconds(600));

        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => devices.RegisterOverHttpsAsync(pki.Request("0ne00000000", "brie-slow")));

        Assert.True(ex.IsTransient);
        Assert.Contains("did not finish within", ex.Message, StringComparison.Ordinal);
    }
}
