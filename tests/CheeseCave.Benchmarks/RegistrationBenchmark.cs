using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;
using CheeseCave.Pki;
using MQTTnet;
using MQTTnet.Channel;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using static CheeseCave.Benchmarks.RegistrationReport;

namespace CheeseCave.Benchmarks;

/// <summary>
/// Measured X.509 device registrations against the in-process emulator (the issue's target: 64 concurrent devices
/// over HTTPS reach 500 registrations/s with p99 under 250 ms on a 2-core machine). Client and server run in this
/// one process and share the machine's cores, so the figures are a lower bound for the emulator alone.
///
/// Setup, not timed: one DPS with a verified root, an enrollment group on that root and two linked hubs (Hashed
/// allocation), and a population of device certificates issued by an intermediate (each device sends leaf +
/// intermediate in its TLS handshake, as DPS requires). Every registration is a new device with its own client
/// certificate, so it needs its own TLS connection. Modes:
///   new:   a fresh TCP + TLS connection per registration (full handshake with client certificate), timed end to end;
///          the handshake and the request are also timed separately inside each registration.
///   split: the devices' connections are opened first (handshake phase, timed on its own) and the registrations are
///          then sent over them (request phase), in chunks so the file-descriptor limit is not reached.
/// Each run uses a fresh emulator (memory store, or the durable journal in a temporary folder: its fsync counts).
/// Besides wall-clock rates and latencies it prints the process CPU time per registration (client + emulator), which
/// varies much less than the rates when other work shares the machine; the load average is printed for each run.
///
/// Usage (Release build): dotnet CheeseCave.Benchmarks.dll --registrations 5000 [--concurrency 64] [--transport https|mqtt]
///   [--new-connections | --mode new|split|both] [--store memory|file|both] [--runs 3] [--warmup 500]
/// </summary>
public static class RegistrationBenchmark
{
    internal const string ApiVersion = "2019-03-31";
    private const string DpsName = "bench-dps";
    private const int SplitChunk = 2000;

    internal sealed record Options(int Count, int Concurrency, string Transport, string[] Modes, string[] Stores, int Runs, int Warmup);

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
            await Console.Error.WriteLineAsync("usage: --registrations N [--concurrency 64] [--transport https|mqtt] [--new-connections | --mode new|split|both] [--store memory|file|both] [--runs 3] [--warmup 500]");
            return 2;
        }

        output.WriteLine(Invariant($"Registration benchmark: {options.Count} X.509 devices, {options.Concurrency} concurrent, {options.Transport.ToUpperInvariant()}, modes {string.Join('+', options.Modes)}, stores {string.Join('+', options.Stores)}, {options.Runs} run(s) each"));
        output.WriteLine(Invariant($"Machine: {Environment.ProcessorCount} logical cores shared by the clients and the emulator (one process); {(GCSettings.IsServerGC ? "server" : "workstation")} GC; {RuntimeInformationText()}"));
        output.WriteLine("Reference crypto speed: measure separately with `openssl speed -seconds 2 ecdsap256` (not run here).");

        var watch = Stopwatch.StartNew();
        var processWarmup = Math.Max(1000, options.Warmup * 4);
        using var pki = new BenchmarkPki(options.Count + processWarmup + (options.Warmup * options.Runs * options.Stores.Length * options.Modes.Length));
        output.WriteLine(Invariant($"Issued {pki.Devices.Length} device certificates (ECDSA P-256, root → intermediate → device) in {watch.Elapsed.TotalSeconds:0.0} s, before any timing."));

        // Process-wide warm-up, untimed: without it the first timed run also pays for the JIT tiering of the TLS,
        // Kestrel and emulator code (every run then starts a fresh emulator, but the code stays compiled).
        var warmupCursor = options.Count;
        foreach (var mode in options.Modes)
        {
            var devices = pki.Devices.Skip(warmupCursor).Take(processWarmup / options.Modes.Length).ToList();
            warmupCursor += devices.Count;
            await RunOnceAsync(options, pki, options.Stores[0], mode, [], devices);
        }

        output.WriteLine(Invariant($"Warmed up with {processWarmup} registrations (untimed); each run below also starts a fresh emulator and warms it with {options.Warmup} more."));
        var all = new List<RunResult>();
        foreach (var store in options.Stores)
        {
            foreach (var mode in options.Modes)
            {
                var runs = new List<RunResult>();
                for (var run = 1; run <= options.Runs; run++)
                {
                    var warmup = pki.Devices.Skip(warmupCursor).Take(options.Warmup).ToList();
                    warmupCursor += options.Warmup;
                    var result = await RunOnceAsync(options, pki, store, mode, warmup, pki.Devices.Take(options.Count).ToList());
                    runs.Add(result);
                    Print(output, run, result);
                }

                all.AddRange(runs);
                Summarize(output, store, mode, runs);
            }
        }

        if (options.Transport == "https")
        {
            output.WriteLine("Target (issue): at least 500 registrations/s with p99 under 250 ms, 64 concurrent devices over HTTPS, each on a new connection, 2-core machine.");
        }
        else
        {
            output.WriteLine("MQTT: \"connect\" is TCP + TLS + MQTT CONNECT/CONNACK + SUBSCRIBE; \"request\" is the register PUBLISH until its answer.");
        }
        return all.Any(r => r.Failures > 0) ? 1 : 0;
    }

    private static Options Parse(string[] args)
    {
        int count = 0, concurrency = 64, runs = 3, warmup = 500;
        string transport = "https", mode = "both", store = "both";
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Number() => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{args[i - 1]} needs a positive number.");
            switch (args[i])
            {
                case "--registrations": count = Number(); break;
                case "--concurrency": concurrency = Number(); break;
                case "--runs": runs = Number(); break;
                case "--warmup": warmup = Number(); break;
                case "--transport": transport = Value().ToLowerInvariant(); break;
                case "--new-connections": mode = "new"; break;
                case "--mode": mode = Value().ToLowerInvariant(); break;
                case "--store": store = Value().ToLowerInvariant(); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'.");
            }
        }

        if (count == 0) throw new ArgumentException("--registrations N is required.");
        if (transport is not ("https" or "mqtt")) throw new ArgumentException("--transport is https or mqtt.");
        string[] modes = mode switch
        {
            "new" => ["new"],
            "split" => ["split"],
            "both" => ["new", "split"],
            _ => throw new ArgumentException("--mode is new, split or both."),
        };
        string[] stores = store switch
        {
            "memory" => ["memory"],
            "file" => ["file"],
            "both" => ["memory", "file"],
            _ => throw new ArgumentException("--store is memory, file or both."),
        };
        return new Options(count, concurrency, transport, modes, stores, runs, warmup);
    }

    private static async Task<RunResult> RunOnceAsync(Options options, BenchmarkPki pki, string store, string mode, List<DeviceCredential> warmup, List<DeviceCredential> devices)
    {
        var folder = Path.Combine(Path.GetTempPath(), "cheesecave-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var emulatorOptions = new EmulatorOptions
            {
                HttpsPort = 0,
                MqttPort = options.Transport == "mqtt" ? 0 : -1,
                InMemory = store == "memory",
                DataDirectory = folder,
            };
            await using var server = await EmulatorServer.StartAsync(emulatorOptions);
            var idScope = await SeedAsync(server, pki);
            var target = new RegistrationTarget(server, idScope, options.Transport);

            // Warm-up with other devices (JIT, TLS and thread pool), then settle.
            if (warmup.Count > 0)
            {
                await NewConnectionsAsync(target, warmup, options.Concurrency);
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(200);

            var loadBefore = LoadAverage();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var result = mode == "new"
                ? await NewConnectionsAsync(target, devices, options.Concurrency)
                : await SplitAsync(target, devices, options.Concurrency);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            return result with { Store = store, Mode = mode, LoadBefore = loadBefore, LoadAfter = LoadAverage(), CpuMsPerRegistration = cpu.TotalMilliseconds / devices.Count };
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    /// <summary>Writes the DPS, its two hubs, the verified root and the enrollment group straight into the store.</summary>
    private static async Task<string> SeedAsync(EmulatorServer server, BenchmarkPki pki)
    {
        var store = server.Context.Store;
        var options = server.Context.Options;
        var now = DateTimeOffset.UtcNow;
        const string idScope = "0ne00BE4C11";
        string[] hubs = ["bench-hub-1", "bench-hub-2"];
        static string Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var hubKeys = hubs.ToDictionary(h => h, _ => Key());
        await store.WriteAsync(tx =>
        {
            foreach (var hub in hubs)
            {
                tx.Put(store.IotHubs, ArmKeys.IotHub(hub), new IotHubEntity(options.SubscriptionId, options.ResourceGroup, hub, "westeurope", [], "S1", 1,
                    [new AccessPolicy("iothubowner", hubKeys[hub], Key(), "RegistryWrite, ServiceConnect, DeviceConnect")], EmulatorContext.NewEtag(), now));
            }

            tx.Put(store.ProvisioningServices, ArmKeys.ProvisioningService(DpsName), new ProvisioningServiceEntity(
                options.SubscriptionId, options.ResourceGroup, DpsName, "westeurope", [], "S1", 1, idScope, "Hashed",
                hubs.Select(h => new LinkedHub($"HostName={h}.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={hubKeys[h]}", "westeurope", true, 1)).ToList(),
                [new AccessPolicy("provisioningserviceowner", Key(), Key(), "ServiceConfig, EnrollmentRead, EnrollmentWrite, DeviceConnect, RegistrationStatusRead, RegistrationStatusWrite")],
                EmulatorContext.NewEtag(), now));
            tx.Put(store.DpsCertificates, ArmKeys.DpsCertificate(DpsName, "bench-root"),
                new DpsCertificateEntity(DpsName, "bench-root", pki.Root.RawData, true, null, EmulatorContext.NewEtag(), now, now));
            var group = new JsonObject
            {
                ["enrollmentGroupId"] = "bench-group",
                ["attestation"] = new JsonObject { ["type"] = "x509", ["x509"] = new JsonObject { ["caReferences"] = new JsonObject { ["primary"] = "bench-root" } } },
                ["provisioningStatus"] = "enabled",
                ["reprovisionPolicy"] = new JsonObject { ["updateHubAssignment"] = true, ["migrateDeviceData"] = true },
                ["initialTwin"] = new JsonObject { ["tags"] = new JsonObject { ["cave"] = "bench" } },
                ["capabilities"] = new JsonObject { ["iotEdge"] = false },
            };
            tx.Put(store.Enrollments, ArmKeys.Enrollment(DpsName, true, "bench-group"), new EnrollmentEntity(DpsName, "bench-group", true, group, EmulatorContext.NewEtag(), now, now));
        });
        return idScope;
    }

    /// <summary>Mode "new": per registration, TCP connect + TLS handshake with the device certificate + PUT register.</summary>
    private static async Task<RunResult> NewConnectionsAsync(RegistrationTarget target, List<DeviceCredential> devices, int concurrency)
    {
        var total = new double[devices.Count];
        var handshake = new double[devices.Count];
        var request = new double[devices.Count];
        var failures = 0;
        var next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < devices.Count)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await using var connection = await target.ConnectAsync(devices[i]);
                    var connected = Stopwatch.GetTimestamp();
                    var ok = await connection.RegisterAsync();
                    var done = Stopwatch.GetTimestamp();
                    if (!ok) Interlocked.Increment(ref failures);
                    handshake[i] = Ms(start, connected);
                    request[i] = Ms(connected, done);
                    total[i] = Ms(start, done);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException or SocketException or System.Security.Authentication.AuthenticationException or TimeoutException or MQTTnet.Exceptions.MqttCommunicationException)
                {
                    Interlocked.Increment(ref failures);
                    total[i] = Ms(start, Stopwatch.GetTimestamp());
                }
            }
        })));
        watch.Stop();
        var seconds = watch.Elapsed.TotalSeconds;
        return new RunResult(string.Empty, "new", devices.Count, failures, seconds, total, handshake, request, 0, 0, string.Empty, string.Empty);
    }

    /// <summary>Mode "split": open the devices' connections (handshake phase), then register over them (request phase).</summary>
    private static async Task<RunResult> SplitAsync(RegistrationTarget target, List<DeviceCredential> devices, int concurrency)
    {
        var handshake = new double[devices.Count];
        var request = new double[devices.Count];
        var total = new double[devices.Count];
        var failures = 0;
        double handshakeSeconds = 0, requestSeconds = 0;
        TimeSpan handshakeCpu = TimeSpan.Zero, requestCpu = TimeSpan.Zero;
        for (var offset = 0; offset < devices.Count; offset += SplitChunk)
        {
            var size = Math.Min(SplitChunk, devices.Count - offset);
            var connections = new IDeviceConnection?[size];
            var next = -1;
            var cpu = CpuTime();
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < size)
                {
                    var start = Stopwatch.GetTimestamp();
                    try
                    {
                        connections[i] = await target.ConnectAsync(devices[offset + i]);
                    }
                    catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException or MQTTnet.Exceptions.MqttCommunicationException)
                    {
                        Interlocked.Increment(ref failures);
                    }

                    handshake[offset + i] = Ms(start, Stopwatch.GetTimestamp());
                }
            })));
            handshakeSeconds += watch.Elapsed.TotalSeconds;
            handshakeCpu += CpuTime() - cpu;

            next = -1;
            cpu = CpuTime();
            watch.Restart();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < size)
                {
                    if (connections[i] is not { } connection) continue;
                    var start = Stopwatch.GetTimestamp();
                    try
                    {
                        if (!await connection.RegisterAsync()) Interlocked.Increment(ref failures);
                    }
                    catch (Exception ex) when (ex is IOException or HttpRequestException or TimeoutException or MQTTnet.Exceptions.MqttCommunicationException)
                    {
                        Interlocked.Increment(ref failures);
                    }

                    request[offset + i] = Ms(start, Stopwatch.GetTimestamp());
                    total[offset + i] = handshake[offset + i] + request[offset + i];
                }
            })));
            requestSeconds += watch.Elapsed.TotalSeconds;
            requestCpu += CpuTime() - cpu;
            foreach (var connection in connections)
            {
                if (connection is not null) await connection.DisposeAsync();
            }
        }

        return new RunResult(string.Empty, "split", devices.Count, failures, handshakeSeconds + requestSeconds, total, handshake, request, handshakeSeconds, requestSeconds, string.Empty, string.Empty,
            HandshakeCpuMs: handshakeCpu.TotalMilliseconds / devices.Count, RequestCpuMs: requestCpu.TotalMilliseconds / devices.Count);
    }

    private static TimeSpan CpuTime() => Process.GetCurrentProcess().TotalProcessorTime;

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

}
