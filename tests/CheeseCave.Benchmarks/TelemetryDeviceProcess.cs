using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MQTTnet.Protocol;

namespace CheeseCave.Benchmarks;

/// <summary>The devices of the telemetry benchmark, in this process or in a process of their own.</summary>
internal interface ITelemetryDevices : IAsyncDisposable
{
    int Count { get; }

    /// <summary>Publishes that failed so far.</summary>
    int PublishErrors { get; }

    /// <summary>CPU time the devices' own process spent in runs so far (zero when they share this process).</summary>
    TimeSpan OwnCpu { get; }

    Task SendAsync(int run, int perDevice, double rate, MqttQualityOfServiceLevel qos);

    Task<long[]> NextCountersAsync();

    Task<int> ConnectedAsync();
}

/// <summary>The fleet in the benchmark's own process (its CPU time counts with the emulator's).</summary>
internal sealed class InProcessDevices(TelemetryFleet fleet) : ITelemetryDevices
{
    public int Count => fleet.Count;

    public int PublishErrors => fleet.PublishErrors;

    public TimeSpan OwnCpu => TimeSpan.Zero;

    public Task SendAsync(int run, int perDevice, double rate, MqttQualityOfServiceLevel qos) => fleet.SendAsync(run, perDevice, rate, qos);

    public Task<long[]> NextCountersAsync() => Task.FromResult(fleet.NextCounters());

    public Task<int> ConnectedAsync() => Task.FromResult(fleet.Connected);

    public ValueTask DisposeAsync() => fleet.DisposeAsync();
}

/// <summary>
/// The fleet in a child process (<c>--telemetry-devices</c>), so the benchmark process's CPU time is the emulator's
/// and the service reader's alone. The child issues its own PKI and sends only its root certificate (public) up; the
/// parent seeds it as the DPS's verified root; the child then registers every device through DPS over HTTPS and
/// connects it over MQTT/TLS. One command per line on stdin, one answer per line on stdout.
/// </summary>
internal sealed class DeviceProcess : ITelemetryDevices
{
    private readonly Process _process;
    private int _publishErrors;

    private DeviceProcess(Process process) => _process = process;

    public byte[] RootCertificate { get; private set; } = [];

    public int Count { get; private set; }

    public int PublishErrors => _publishErrors;

    public TimeSpan OwnCpu { get; private set; }

    public static async Task<DeviceProcess> StartAsync(int devices, int httpsPort, int mqttPort, string caPath, string hubHost, string idScope)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { typeof(DeviceProcess).Assembly.Location, "--telemetry-devices", Text(devices), Text(httpsPort), Text(mqttPort), caPath, hubHost, idScope })
        {
            info.ArgumentList.Add(arg);
        }

        var child = new DeviceProcess(Process.Start(info)!);
        child.RootCertificate = Convert.FromBase64String(await child.ExpectAsync("root"));
        return child;
    }

    /// <summary>After the parent seeded the root: the child registers and connects; returns (refused, failed to connect).</summary>
    public async Task<(int Refused, int Failed)> RegisterAndConnectAsync()
    {
        var answer = (await CommandAsync("register", "ready")).Split(' ');
        Count = int.Parse(answer[0], CultureInfo.InvariantCulture);
        return (int.Parse(answer[1], CultureInfo.InvariantCulture), int.Parse(answer[2], CultureInfo.InvariantCulture));
    }

    public async Task SendAsync(int run, int perDevice, double rate, MqttQualityOfServiceLevel qos)
    {
        var answer = (await CommandAsync(Invariant($"send {run} {perDevice} {rate} {(int)qos}"), "sent")).Split(' ');
        _publishErrors += int.Parse(answer[0], CultureInfo.InvariantCulture);
        if (run > 0) OwnCpu += TimeSpan.FromMilliseconds(double.Parse(answer[1], CultureInfo.InvariantCulture));
    }

    public async Task<long[]> NextCountersAsync() =>
        (await CommandAsync("counters", "counters")).Split(',').Select(c => long.Parse(c, CultureInfo.InvariantCulture)).ToArray();

    public async Task<int> ConnectedAsync() => int.Parse(await CommandAsync("connected", "connected"), CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await _process.StandardInput.WriteLineAsync("quit");
            await _process.StandardInput.FlushAsync();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _process.Dispose();
    }

    private async Task<string> CommandAsync(string command, string answer)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        return await ExpectAsync(answer);
    }

    private async Task<string> ExpectAsync(string word)
    {
        while (true)
        {
            var line = await _process.StandardOutput.ReadLineAsync() ?? throw new IOException("The device process ended.");
            if (line.StartsWith(word + " ", StringComparison.Ordinal)) return line[(word.Length + 1)..];
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The child's side: <c>--telemetry-devices N httpsPort mqttPort caPath hubHost idScope</c>.</summary>
    public static async Task<int> RunChildAsync(string[] args)
    {
        var count = int.Parse(args[1], CultureInfo.InvariantCulture);
        var httpsPort = int.Parse(args[2], CultureInfo.InvariantCulture);
        var mqttPort = int.Parse(args[3], CultureInfo.InvariantCulture);
        using var ca = X509CertificateLoader.LoadCertificateFromFile(args[4]);
        var (hubHost, idScope) = (args[5], args[6]);
        using var pki = new BenchmarkPki(count);
        Console.WriteLine("root " + Convert.ToBase64String(pki.Root.RawData));
        await using var fleet = new TelemetryFleet(mqttPort, ca, hubHost);
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var words = line.Split(' ');
            switch (words[0])
            {
                case "register":
                    var refused = await RegisterAsync(pki.Devices, httpsPort, ca, idScope);
                    var failed = await fleet.ConnectAsync(pki.Devices, 64);
                    Console.WriteLine(Invariant($"ready {fleet.Count} {refused} {failed}"));
                    break;
                case "send":
                    var errors = fleet.PublishErrors;
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    await fleet.SendAsync(int.Parse(words[1], CultureInfo.InvariantCulture), int.Parse(words[2], CultureInfo.InvariantCulture),
                        double.Parse(words[3], CultureInfo.InvariantCulture), (MqttQualityOfServiceLevel)int.Parse(words[4], CultureInfo.InvariantCulture));
                    Console.WriteLine(Invariant($"sent {fleet.PublishErrors - errors} {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:0}"));
                    break;
                case "counters":
                    Console.WriteLine("counters " + string.Join(',', fleet.NextCounters()));
                    break;
                case "connected":
                    Console.WriteLine(Invariant($"connected {fleet.Connected}"));
                    break;
                case "quit":
                    return 0;
            }
        }

        return 0;
    }

    /// <summary>Each device registers through DPS over HTTPS on its own TLS connection with its own certificate, 32 at a time.</summary>
    private static async Task<int> RegisterAsync(DeviceCredential[] devices, int httpsPort, X509Certificate2 ca, string idScope)
    {
        var refused = 0;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < devices.Length)
            {
                var device = devices[i];
                using var handler = new SocketsHttpHandler
                {
                    UseProxy = false,
                    SslOptions = new SslClientAuthenticationOptions
                    {
                        TargetHost = "localhost",
                        ClientCertificateContext = device.Context,
                        CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { ca }, RevocationMode = X509RevocationMode.NoCheck },
                    },
                };
                using var client = new HttpClient(handler);
                using var body = new StringContent($"{{\"registrationId\":\"{device.RegistrationId}\"}}", Encoding.UTF8, "application/json");
                using var response = await client.PutAsync(new Uri($"https://localhost:{httpsPort}/{idScope}/registrations/{device.RegistrationId}/register?api-version={RegistrationBenchmark.ApiVersion}"), body);
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.OK || !text.Contains("\"status\":\"assigned\"", StringComparison.Ordinal)) Interlocked.Increment(ref refused);
            }
        })));
        return refused;
    }
}
