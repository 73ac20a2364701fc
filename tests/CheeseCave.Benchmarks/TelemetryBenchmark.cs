using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.Service;
using CheeseCave.Emulator.State;
using MQTTnet.Protocol;
using static CheeseCave.Benchmarks.RegistrationReport;

namespace CheeseCave.Benchmarks;

/// <summary>
/// Measured hub telemetry against the in-process emulator (issue #12: from 1,000 connected devices at least 10,000
/// messages per second, p99 under 50 ms from the device's send to the service-side read). Devices and the service
/// reader run in this one process and share the machine's cores with the emulator, so the figures are a lower bound
/// for the emulator alone.
///
/// Setup, not timed: one DPS with a verified root and an X.509 enrollment group, linked to one hub; the devices'
/// certificates (root → intermediate → device) are issued, and every device registers through DPS over HTTPS, which
/// puts it in the hub's registry with its certificate's thumbprint. Each device then connects over MQTT/TLS with its
/// own certificate (an MQTTnet client per device). A service reader holds the hub's telemetry stream open
/// (GET /messages/events/stream, the emulator's own server-sent events endpoint, authorised with the hub owner's SAS).
/// Each run: every device sends its share of N messages on a fixed schedule (rate R spread evenly over the devices,
/// QoS 1 by default, as the SDKs send telemetry); the latency of a message is from just before the device's PUBLISH
/// to the moment the reader has parsed it. Checked per run: every message read, none lost, each device's in order.
///
/// Usage (Release build): dotnet CheeseCave.Benchmarks.dll --telemetry 100000 [--devices 1000] [--rate 10000]
///   [--runs 3] [--qos 0|1] [--warmup-seconds 5] [--devices-process]
/// </summary>
public static class TelemetryBenchmark
{
    private const string HubName = "bench-hub";
    private const string HubHost = HubName + ".azure-devices.net";
    private const string DpsName = "bench-dps";
    private const string IdScope = "0ne00BE4C12";

    private sealed record Options(int Messages, int Devices, double Rate, int Runs, MqttQualityOfServiceLevel Qos, int WarmupSeconds, bool SeparateProcess);

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        Options options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync("benchmark: " + ex.Message);
            await Console.Error.WriteLineAsync("usage: --telemetry N [--devices 1000] [--rate 10000] [--runs 3] [--qos 0|1] [--warmup-seconds 5] [--devices-process]");
            return 2;
        }

        var perDevice = Math.Max(1, options.Messages / options.Devices);
        output.WriteLine(Invariant($"Telemetry benchmark: {options.Devices} devices over MQTT/TLS (X.509, own certificate each), {perDevice} messages each per run = {perDevice * options.Devices} at {options.Rate:0} /s, QoS {(int)options.Qos}, {options.Runs} run(s)"));
        output.WriteLine(Invariant($"Machine: {Environment.ProcessorCount} logical cores shared by the devices, the reader and the emulator (one process); {(GCSettings.IsServerGC ? "server" : "workstation")} GC; {RuntimeInformationText()}"));

        var watch = Stopwatch.StartNew();
        var folder = Path.Combine(Path.GetTempPath(), "cheesecave-telemetry-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { HttpsPort = 0, MqttPort = 0, InMemory = true, DataDirectory = folder });
            var (devices, hubKey, refused, connectFailures) = options.SeparateProcess
                ? await StartDeviceProcessAsync(server, options, folder)
                : await StartInProcessAsync(server, options);
            await using (devices)
            {
                output.WriteLine(Invariant($"{(options.SeparateProcess ? "In a separate process, r" : "R")}egistered {devices.Count + connectFailures} devices through DPS (HTTPS, X.509) into hub {HubHost} (refused {refused}) and connected {devices.Count} over MQTT/TLS (failed {connectFailures}) in {watch.Elapsed.TotalSeconds:0.0} s."));
                if (devices.Count == 0) return 1;
                return await MeasureAsync(server, devices, hubKey, options, perDevice, connectFailures > 0 || refused > 0, output);
            }
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<(ITelemetryDevices Devices, string HubKey, int Refused, int Failed)> StartInProcessAsync(EmulatorServer server, Options options)
    {
        var pki = new BenchmarkPki(options.Devices); // its keys stay in use by the connections until the process ends
        var hubKey = await SeedAsync(server, pki.Root.RawData);
        var refused = await RegisterAsync(server, pki.Devices);
        var fleet = new TelemetryFleet(server.MqttPort!.Value, server.Context.Tls.CaCertificate, HubHost);
        var failed = await fleet.ConnectAsync(pki.Devices, 64);
        return (new InProcessDevices(fleet), hubKey, refused, failed);
    }

    private static async Task<(ITelemetryDevices Devices, string HubKey, int Refused, int Failed)> StartDeviceProcessAsync(EmulatorServer server, Options options, string folder)
    {
        var caPath = Path.Combine(folder, "emulator-ca.cert.pem");
        await File.WriteAllTextAsync(caPath, server.Context.Tls.CaCertificate.ExportCertificatePem());
        var child = await DeviceProcess.StartAsync(options.Devices, server.HttpsPort, server.MqttPort!.Value, caPath, HubHost, IdScope);
        var hubKey = await SeedAsync(server, child.RootCertificate);
        var (refused, failed) = await child.RegisterAndConnectAsync();
        return (child, hubKey, refused, failed);
    }

    private static async Task<int> MeasureAsync(EmulatorServer server, ITelemetryDevices fleet, string hubKey, Options options, int perDevice, bool failed, TextWriter output)
    {
        var sas = SharedAccessSignatures.Create(HubHost, "iothubowner", hubKey, DateTimeOffset.UtcNow.AddHours(2));
        await using var reader = TelemetryStreamReader.Start(server, sas, server.Context.Hub.Telemetry.LastSequence(HubName));

        // Warm-up, untimed: the JIT tiers up the device, broker, hub and reader paths.
        var warmupPerDevice = Math.Max(1, (int)(options.Rate * options.WarmupSeconds / fleet.Count));
        await fleet.SendAsync(0, warmupPerDevice, options.Rate, options.Qos);
        output.WriteLine(Invariant($"Warmed up with {warmupPerDevice * fleet.Count} messages (untimed)."));

        output.WriteLine(BenchmarkFigures.Reference());
        var results = new List<TelemetryRunStats>();
        for (var run = 1; run <= options.Runs; run++)
        {
            GC.Collect();
            await Task.Delay(500);
            var stats = new TelemetryRunStats(run, await fleet.NextCountersAsync(), perDevice * fleet.Count);
            reader.Begin(stats);
            var load = LoadAverage();
            var errorsBefore = fleet.PublishErrors;
            var lostBefore = reader.Lost;
            var readsBefore = reader.Reads;
            var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var deviceCpuBefore = fleet.OwnCpu;
            var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            var clock = Stopwatch.StartNew();
            await fleet.SendAsync(run, perDevice, options.Rate, options.Qos);
            var sendSeconds = clock.Elapsed.TotalSeconds;
            await Task.WhenAny(stats.Complete, Task.Delay(TimeSpan.FromSeconds(15)));
            var readSeconds = clock.Elapsed.TotalSeconds;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            var errors = fleet.PublishErrors - errorsBefore;
            var lost = reader.Lost - lostBefore;
            var missing = stats.Expected - stats.Received;
            failed |= errors > 0 || lost > 0 || missing > 0 || stats.OutOfOrder > 0;
            results.Add(stats);
            var latencies = stats.Latencies.Take(stats.Received).ToArray();
            output.WriteLine(Invariant($"  [run {run}] sent {stats.Expected} in {sendSeconds:0.00} s = {stats.Expected / sendSeconds:0} /s; read {stats.Received} by {readSeconds:0.00} s = {stats.Received / readSeconds:0} /s")
                + Invariant($"; latency p50 {P(latencies, 50):0.0} / p95 {P(latencies, 95):0.0} / p99 {P(latencies, 99):0.0} / max {(latencies.Length > 0 ? latencies.Max() : 0):0.0} ms")
                + Invariant($"; {stats.Received / (double)Math.Max(1, reader.Reads - readsBefore):0.0} messages per stream read; errors {errors}, lost {lost}, missing {missing}, out of order {stats.OutOfOrder} (skipped within a device {stats.Skipped})")
                + Invariant($"; CPU {cpu.TotalMilliseconds / stats.Expected * 1000:0} µs per message ({cpu.TotalSeconds / readSeconds:0.00} cores){(options.SeparateProcess ? " in the emulator + reader, devices' process " + Invariant($"{(fleet.OwnCpu - deviceCpuBefore).TotalMilliseconds / stats.Expected * 1000:0} µs") : "")}")
                + Invariant($"; GC {GC.CollectionCount(0) - gcBefore.Item1}/{GC.CollectionCount(1) - gcBefore.Item2}/{GC.CollectionCount(2) - gcBefore.Item3}; JIT {System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore} methods; load {load} → {LoadAverage()}; connected {await fleet.ConnectedAsync()}"));
            output.WriteLine(BenchmarkFigures.Reference());
        }

        if (reader.Failure is { } failure) output.WriteLine("Reader failed: " + failure);
        output.WriteLine("Target (issue): from 1,000 connected devices at least 10,000 messages per second, p99 under 50 ms from send to the service-side read.");
        return failed || reader.Failure is not null ? 1 : 0;
    }

    private static Options Parse(string[] args)
    {
        int messages = 0, devices = 1000, runs = 3, qos = 1, warmup = 5;
        var separate = false;
        double rate = 10_000;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Number() => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"{args[i - 1]} needs a number.");
            switch (args[i])
            {
                case "--telemetry": messages = Number(); break;
                case "--devices": devices = Number(); break;
                case "--rate": rate = Number(); break;
                case "--runs": runs = Number(); break;
                case "--qos": qos = Number(); break;
                case "--warmup-seconds": warmup = Number(); break;
                case "--devices-process": separate = true; break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'.");
            }
        }

        if (messages <= 0 || devices <= 0 || rate <= 0 || runs <= 0) throw new ArgumentException("--telemetry N, --devices, --rate and --runs must be positive.");
        if (qos is not (0 or 1)) throw new ArgumentException("--qos is 0 or 1 (IoT Hub accepts no QoS 2).");
        return new Options(messages, devices, rate, runs, (MqttQualityOfServiceLevel)qos, warmup, separate);
    }

    /// <summary>Writes the hub, the DPS linked to it, its verified root and the enrollment group straight into the store; returns the hub owner key.</summary>
    private static async Task<string> SeedAsync(EmulatorServer server, byte[] rootCertificate)
    {
        var store = server.Context.Store;
        var options = server.Context.Options;
        var now = DateTimeOffset.UtcNow;
        static string Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var hubKey = Key();
        await store.WriteAsync(tx =>
        {
            tx.Put(store.IotHubs, ArmKeys.IotHub(HubName), new IotHubEntity(options.SubscriptionId, options.ResourceGroup, HubName, "westeurope", [], "S1", 1,
                [new AccessPolicy("iothubowner", hubKey, Key(), "RegistryWrite, ServiceConnect, DeviceConnect")], EmulatorContext.NewEtag(), now));
            tx.Put(store.ProvisioningServices, ArmKeys.ProvisioningService(DpsName), new ProvisioningServiceEntity(
                options.SubscriptionId, options.ResourceGroup, DpsName, "westeurope", [], "S1", 1, IdScope, "Hashed",
                [new LinkedHub($"HostName={HubHost};SharedAccessKeyName=iothubowner;SharedAccessKey={hubKey}", "westeurope", true, 1)],
                [new AccessPolicy("provisioningserviceowner", Key(), Key(), "ServiceConfig, EnrollmentRead, EnrollmentWrite, DeviceConnect, RegistrationStatusRead, RegistrationStatusWrite")],
                EmulatorContext.NewEtag(), now));
            tx.Put(store.DpsCertificates, ArmKeys.DpsCertificate(DpsName, "bench-root"),
                new DpsCertificateEntity(DpsName, "bench-root", rootCertificate, true, null, EmulatorContext.NewEtag(), now, now));
            var group = new JsonObject
            {
                ["enrollmentGroupId"] = "bench-group",
                ["attestation"] = new JsonObject { ["type"] = "x509", ["x509"] = new JsonObject { ["caReferences"] = new JsonObject { ["primary"] = "bench-root" } } },
                ["provisioningStatus"] = "enabled",
                ["reprovisionPolicy"] = new JsonObject { ["updateHubAssignment"] = true, ["migrateDeviceData"] = true },
                ["capabilities"] = new JsonObject { ["iotEdge"] = false },
            };
            tx.Put(store.Enrollments, ArmKeys.Enrollment(DpsName, true, "bench-group"), new EnrollmentEntity(DpsName, "bench-group", true, group, EmulatorContext.NewEtag(), now, now));
        });
        return hubKey;
    }

    /// <summary>Every device registers through DPS over HTTPS (its own TLS connection and certificate), 32 at a time.</summary>
    private static async Task<int> RegisterAsync(EmulatorServer server, DeviceCredential[] devices)
    {
        var target = new RegistrationTarget(server, IdScope, "https");
        var refused = 0;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < devices.Length)
            {
                await using var connection = await target.ConnectAsync(devices[i]);
                if (!await connection.RegisterAsync()) Interlocked.Increment(ref refused);
            }
        })));
        return refused;
    }
}
