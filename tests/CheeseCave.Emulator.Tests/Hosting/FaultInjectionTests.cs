using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Tests.Hosting;

/// <summary>
/// EmulatorOptions.Faults against real sockets: each surface (ARM, DPS service API, device API over HTTPS and
/// MQTT) fails the way its configuration says, in its own error shape, and only that surface. Timing checks are
/// lower bounds only (an added latency must be at least that long); nothing asserts an upper bound.
/// </summary>
public sealed class FaultInjectionTests
{
    private static readonly Surface[] All = [Surface.Arm, Surface.Service, Surface.Device];

    // By name: Surface is internal and xUnit test methods are public.
    public static TheoryData<string> HttpsSurfaces => new(All.Select(s => s.ToString()));

    private static SurfaceFaults On(FaultOptions faults, Surface surface) => surface switch
    {
        Surface.Arm => faults.Arm,
        Surface.Service => faults.Service,
        _ => faults.Device,
    };

    [Theory]
    [MemberData(nameof(HttpsSurfaces))]
    public async Task Throttle_rate_1_answers_429_with_Retry_After_in_the_surface_error_shape(string surfaceName)
    {
        var surface = Enum.Parse<Surface>(surfaceName);
        await using var probe = await SurfaceProbe.StartAsync(f => { On(f, surface).ThrottleRate = 1; On(f, surface).RetryAfterSeconds = 7; });
        var device = probe.NewDevice();

        var answer = await probe.SendAsync(surface, device);

        Assert.Equal(HttpStatusCode.TooManyRequests, answer.Status);
        Assert.Equal(TimeSpan.FromSeconds(7), answer.Headers.RetryAfter?.Delta);
        AssertErrorShape(surface, answer, "TooManyRequests", 429001);
        if (surface == Surface.Device)
        {
            Assert.Null(probe.Env.Registration(device.RegistrationId)); // refused before the registration ran
        }
    }

    [Theory]
    [MemberData(nameof(HttpsSurfaces))]
    public async Task Unavailable_rate_1_answers_503_in_the_surface_error_shape(string surfaceName)
    {
        var surface = Enum.Parse<Surface>(surfaceName);
        await using var probe = await SurfaceProbe.StartAsync(f => On(f, surface).UnavailableRate = 1);
        var device = probe.NewDevice();

        var answer = await probe.SendAsync(surface, device);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.Status);
        AssertErrorShape(surface, answer, "ServiceUnavailable", 503000);
        if (surface == Surface.Device)
        {
            Assert.Null(probe.Env.Registration(device.RegistrationId));
        }
    }

    [Theory]
    [MemberData(nameof(HttpsSurfaces))]
    public async Task Added_latency_delays_the_answer_by_at_least_that_long_and_it_still_succeeds(string surfaceName)
    {
        var surface = Enum.Parse<Surface>(surfaceName);
        const int latencyMs = 400;
        await using var probe = await SurfaceProbe.StartAsync(f => On(f, surface).AddedLatencyMs = latencyMs);

        var answer = await probe.SendAsync(surface);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.True(answer.Elapsed >= TimeSpan.FromMilliseconds(latencyMs), $"answered after {answer.Elapsed.TotalMilliseconds:0} ms, expected at least {latencyMs} ms");
    }

    [Theory]
    [MemberData(nameof(HttpsSurfaces))]
    public async Task Drop_connection_rate_1_closes_the_connection_without_a_response(string surfaceName)
    {
        var surface = Enum.Parse<Surface>(surfaceName);
        await using var probe = await SurfaceProbe.StartAsync(f => On(f, surface).DropConnectionRate = 1);
        var device = probe.NewDevice();

        await Assert.ThrowsAsync<HttpRequestException>(() => probe.SendAsync(surface, device));

        if (surface == Surface.Device)
        {
            Assert.Null(probe.Env.Registration(device.RegistrationId));
        }

        // The emulator itself is fine: the other surfaces still answer.
        foreach (var other in All.Where(s => s != surface))
        {
            Assert.Equal(HttpStatusCode.OK, (await probe.SendAsync(other)).Status);
        }
    }

    [Theory]
    [MemberData(nameof(HttpsSurfaces))]
    public async Task Faults_on_one_surface_leave_the_other_surfaces_and_MQTT_alone(string faultyName)
    {
        var faulty = Enum.Parse<Surface>(faultyName);
        await using var probe = await SurfaceProbe.StartAsync(f =>
        {
            On(f, faulty).ThrottleRate = 0.5;
            On(f, faulty).UnavailableRate = 0.5;
        });

        Assert.Contains((await probe.SendAsync(faulty)).Status, new[] { HttpStatusCode.TooManyRequests, HttpStatusCode.ServiceUnavailable });
        foreach (var other in All.Where(s => s != faulty))
        {
            for (var i = 0; i < 3; i++)
            {
                var answer = await probe.SendAsync(other);
                Assert.True(answer.Status == HttpStatusCode.OK, $"{other} answered {answer.Status} while only {faulty} has faults: {answer.Body?.ToJsonString()}");
            }
        }

        if (faulty != Surface.Device)
        {
            await using var device = await MqttProbeDevice.ConnectAsync(probe.Env, probe.NewDevice());
            Assert.Equal(200, (await device.RegisterAsync()).Status);
        }
    }

    [Theory]
    [MemberData(nameof(HttpsSurfaces))]
    public async Task A_seeded_rate_of_one_half_mixes_failures_and_successes(string surfaceName)
    {
        var surface = Enum.Parse<Surface>(surfaceName);
        await using var probe = await SurfaceProbe.StartAsync(f => { On(f, surface).ThrottleRate = 0.5; f.Seed = 20240611; });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            statuses.Add((await probe.SendAsync(surface)).Status);
        }

        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));
        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_sequence_of_faults()
    {
        async Task<string> RunAsync()
        {
            await using var probe = await SurfaceProbe.StartAsync(f => { f.Arm.ThrottleRate = 0.3; f.Arm.UnavailableRate = 0.3; f.Seed = 7; });
            var statuses = new List<int>();
            for (var i = 0; i < 20; i++)
            {
                statuses.Add((int)(await probe.SendAsync(Surface.Arm)).Status);
            }

            return string.Join(',', statuses);
        }

        var first = await RunAsync();
        Assert.Equal(first, await RunAsync());
        Assert.Contains("200", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MQTT_unavailable_answers_503_with_the_DPS_error_body()
    {
        await using var probe = await SurfaceProbe.StartAsync(f => { f.Device.UnavailableRate = 1; f.Device.RetryAfterSeconds = 4; });
        var identity = probe.NewDevice();
        await using var device = await MqttProbeDevice.ConnectAsync(probe.Env, identity);

        var answer = await device.RegisterAsync();

        Assert.Equal(503, answer.Status);
        Assert.Equal(503000, answer.Body["errorCode"]!.GetValue<int>());
        Assert.True(Guid.TryParse(answer.Body["trackingId"]!.GetValue<string>(), out _));
        Assert.False(string.IsNullOrWhiteSpace(answer.Body["message"]!.GetValue<string>()));
        Assert.Contains("retry-after=4", answer.Query, StringComparison.Ordinal);
        Assert.Null(probe.Env.Registration(identity.RegistrationId));
    }

    [Fact]
    public async Task MQTT_throttling_answers_429_without_registering_and_the_device_can_retry()
    {
        await using var probe = await SurfaceProbe.StartAsync(f => { f.Device.ThrottleRate = 1; f.Device.RetryAfterSeconds = 2; });
        var identity = probe.NewDevice();
        await using var device = await MqttProbeDevice.ConnectAsync(probe.Env, identity);

        var first = await device.RegisterAsync();
        var second = await device.RegisterAsync(); // the connection stays usable after a throttled request

        Assert.Equal((429, 429), (first.Status, second.Status));
        Assert.Contains("retry-after=2", first.Query, StringComparison.Ordinal);
        Assert.Equal(429001, first.Body["errorCode"]!.GetValue<int>());
        Assert.Null(probe.Env.Registration(identity.RegistrationId));
    }

    [Fact]
    public async Task MQTT_drop_connection_closes_the_connection_without_an_answer()
    {
        await using var probe = await SurfaceProbe.StartAsync(f => f.Device.DropConnectionRate = 1);
        var identity = probe.NewDevice();
        await using var device = await MqttProbeDevice.ConnectAsync(probe.Env, identity);

        // The QoS 1 PUBLISH gets no PUBACK either: the client sees its connection closed while it waits.
        var publish = await Record.ExceptionAsync(device.PublishRegisterAsync);
        await device.Disconnected.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(publish is null or MQTTnet.Exceptions.MqttClientDisconnectedException, publish?.ToString());
        Assert.Equal(0, device.ReceivedCount);
        Assert.Null(probe.Env.Registration(identity.RegistrationId));
    }

    [Fact]
    public async Task MQTT_added_latency_delays_the_answer_by_at_least_that_long()
    {
        const int latencyMs = 400;
        await using var probe = await SurfaceProbe.StartAsync(f => f.Device.AddedLatencyMs = latencyMs);
        await using var device = await MqttProbeDevice.ConnectAsync(probe.Env, probe.NewDevice());

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var answer = await device.RegisterAsync();
        watch.Stop();

        Assert.Equal(200, answer.Status);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(latencyMs), $"answered after {watch.Elapsed.TotalMilliseconds:0} ms, expected at least {latencyMs} ms");
    }

    [Fact]
    public async Task MQTT_with_a_seeded_rate_of_one_half_mixes_429_and_200_on_one_connection()
    {
        await using var probe = await SurfaceProbe.StartAsync(f => { f.Device.ThrottleRate = 0.5; f.Seed = 99; });
        await using var device = await MqttProbeDevice.ConnectAsync(probe.Env, probe.NewDevice());

        var statuses = new List<int>();
        for (var i = 0; i < 24; i++)
        {
            statuses.Add((await device.RegisterAsync()).Status);
        }

        Assert.All(statuses, s => Assert.True(s is 200 or 429, s.ToString(CultureInfo.InvariantCulture)));
        Assert.Contains(200, statuses);
        Assert.Contains(429, statuses);
    }

    [Fact]
    public async Task Device_faults_apply_to_MQTT_and_ARM_or_service_faults_do_not()
    {
        await using (var armAndService = await SurfaceProbe.StartAsync(f => { f.Arm.DropConnectionRate = 1; f.Service.UnavailableRate = 1; }))
        await using (var device = await MqttProbeDevice.ConnectAsync(armAndService.Env, armAndService.NewDevice()))
        {
            Assert.Equal(200, (await device.RegisterAsync()).Status);
        }

        await using var deviceFaults = await SurfaceProbe.StartAsync(f => f.Device.ThrottleRate = 1);
        await using var throttled = await MqttProbeDevice.ConnectAsync(deviceFaults.Env, deviceFaults.NewDevice());
        Assert.Equal(429, (await throttled.RegisterAsync()).Status);
    }

    /// <summary>ARM: {"error":{code,message}} only. DPS (service and device): {errorCode,trackingId,message,info,timestampUtc} + x-ms-error-code.</summary>
    private static void AssertErrorShape(Surface surface, SurfaceAnswer answer, string armCode, int dpsCode)
    {
        var body = Assert.IsType<JsonObject>(answer.Body);
        if (surface == Surface.Arm)
        {
            Assert.Equal(["error"], body.Select(p => p.Key));
            Assert.Equal(armCode, body["error"]!["code"]!.GetValue<string>());
            Assert.False(string.IsNullOrWhiteSpace(body["error"]!["message"]!.GetValue<string>()));
            return;
        }

        Assert.Equal(dpsCode, body["errorCode"]!.GetValue<int>());
        Assert.True(Guid.TryParse(body["trackingId"]!.GetValue<string>(), out _));
        Assert.False(string.IsNullOrWhiteSpace(body["message"]!.GetValue<string>()));
        Assert.IsType<JsonObject>(body["info"]);
        Assert.True(DateTimeOffset.TryParse(body["timestampUtc"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
        Assert.Equal(dpsCode.ToString(CultureInfo.InvariantCulture), answer.Header("x-ms-error-code"));
        Assert.False(body.ContainsKey("error"));
    }
}
