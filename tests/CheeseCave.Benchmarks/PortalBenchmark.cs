using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using CheeseCave.Pki;
using CheeseCave.Portal.Hosting;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Portal.Setups.Allocation;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Hubs;
using CheeseCave.Portal.Setups.KeyExport;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.Overview;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Setups.Upload;
namespace CheeseCave.Benchmarks;

/// <summary>
/// The portal's own figures (issue #4, item 6):
///   start: the real portal process (<c>dotnet CheeseCave.Portal.dll</c>) on a fresh data folder and free ports,
///          timed from process start until <c>GET /</c> (anonymous, so it ends on the sign-in page) returns 200;
///          target 5 s.
///   actions: every wizard action, driven in-process through <see cref="SetupSlices"/> the way the pages call
///          it (same service, same caller checks, audit entries and SQLite writes, the embedded emulator over its real
///          HTTPS/MQTT sockets), repeated over several independent setups; the downloads also as the browser fetches
///          them (GET with the sign-in cookie over the host's socket); target p95 under 200 ms, and the long
///          operations (those the pages show progress for) report time to first progress and total.
/// Each part prints the OpenSSL P-256 reference measured just before it and the load average, since absolute times
/// drift with the machine and whatever else runs on it.
///
/// Usage (Release build): dotnet CheeseCave.Benchmarks.dll --portal [--part start|actions|both] [--starts 5]
///   [--walks 50] [--repeat 5] [--portal-dll path/to/CheeseCave.Portal.dll]
/// </summary>
public static partial class PortalBenchmark
{
    private const double StartTargetSeconds = 5;
    private const double ActionTargetMs = 200;
    private const string ResourceGroup = "cheesecave-rg";
    private const string Location = "eastus";

    private sealed record Options(string Part, int Starts, int Walks, int Repeat, string? PortalDll);

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
            await Console.Error.WriteLineAsync("usage: --portal [--part start|actions|both] [--starts 5] [--walks 50] [--repeat 5] [--portal-dll path/to/CheeseCave.Portal.dll]");
            return 2;
        }

        output.WriteLine(Invariant($"Portal benchmark on {Environment.ProcessorCount} logical cores, {RuntimeText()}, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        if (options.Part is "start" or "both")
        {
            var dll = options.PortalDll ?? DefaultPortalDll();
            if (!File.Exists(dll))
            {
                await Console.Error.WriteLineAsync($"benchmark: no portal at {dll}; build it (dotnet build src/CheeseCave.Portal -c Release) or pass --portal-dll");
                return 2;
            }

            await MeasureStartAsync(dll, options.Starts, output);
        }

        if (options.Part is "actions" or "both")
        {
            await MeasureActionsAsync(options.Walks, options.Repeat, output);
        }

        return 0;
    }

    // ------------------------------------------------------------------ (a) start to first page

    private static async Task MeasureStartAsync(string dll, int starts, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"## Portal start to first page ({dll})");
        output.WriteLine(Reference());

        // One untimed start first: the first run after a build also reads the files from disk.
        var warmup = Directory.CreateTempSubdirectory("cheesecave-bench-start-").FullName;
        _ = await StartOnceAsync(dll, warmup);
        Directory.Delete(warmup, recursive: true);

        // Each round: a first start on a fresh data folder (database created, keys generated), then a restart on it.
        var runs = new List<(double Listening, double FirstPage)>();
        var restarts = new List<double>();
        IReadOnlyList<string> timeline = [];
        for (var i = 1; i <= starts; i++)
        {
            var data = Directory.CreateTempSubdirectory("cheesecave-bench-start-").FullName;
            try
            {
                var run = await StartOnceAsync(dll, data);
                runs.Add((run.Listening, run.FirstPage));
                timeline = run.Timeline;
                var restart = await StartOnceAsync(dll, data);
                restarts.Add(restart.FirstPage);
                output.WriteLine(Invariant($"start {i}: listening after {run.Listening:0} ms, GET / answered 200 after {run.FirstPage:0} ms; restarted on the same data: 200 after {restart.FirstPage:0} ms"));
            }
            finally
            {
                Directory.Delete(data, recursive: true);
            }
        }

        // Where the time goes: when the portal's own log lines arrived in the last start.
        output.WriteLine("last start, log lines as they arrived (ms since the process started):");
        foreach (var line in timeline)
        {
            output.WriteLine("  " + line);
        }

        var firstPage = runs.Select(r => r.FirstPage).Order().ToArray();
        var median = Percentile(firstPage, 50);
        output.WriteLine(Invariant($"start to first page over {starts} starts on a fresh data folder: median {median:0} ms, max {firstPage[^1]:0} ms (listening: median {Percentile([.. runs.Select(r => r.Listening).Order()], 50):0} ms); target {StartTargetSeconds:0} s: {(firstPage[^1] <= StartTargetSeconds * 1000 ? "met" : "MISSED")}"));
        var again = restarts.Order().ToArray();
        output.WriteLine(Invariant($"restart on existing data: median {Percentile(again, 50):0} ms, max {again[^1]:0} ms; target {StartTargetSeconds:0} s: {(again[^1] <= StartTargetSeconds * 1000 ? "met" : "MISSED")}"));
        output.WriteLine(Reference());
    }

    /// <summary>Starts the portal process, times "Now listening" and the first 200 for GET /, then ends it.</summary>
    private static async Task<(double Listening, double FirstPage, IReadOnlyList<string> Timeline)> StartOnceAsync(string dll, string data)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     dll, "--urls", "http://127.0.0.1:0", $"--CheeseCave:DataDirectory={data}",
                     "--CheeseCave:Emulator:HttpsPort=0", "--CheeseCave:Emulator:MqttPort=0",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var listening = new TaskCompletionSource<(Uri Address, double Ms)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new List<string>();
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }

            lock (log)
            {
                var text = SetupToken().Replace(line.Data, "/setup/<one-time token>"); // a throwaway portal's, but a token all the same
                log.Add(Invariant($"{watch.Elapsed.TotalMilliseconds,6:0} {(text.Length > 110 ? text[..110] + "…" : text)}"));
            }

            if (ListeningLine().Match(line.Data) is { Success: true } match)
            {
                listening.TrySetResult((new Uri(match.Groups[1].Value.TrimEnd('/') + "/"), watch.Elapsed.TotalMilliseconds));
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                lock (log)
                {
                    log.Add(line.Data);
                }
            }
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("the portal exited before listening"));
        process.EnableRaisingEvents = true;

        try
        {
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var (address, listeningMs) = await listening.Task.WaitAsync(timeout.Token);

            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            while (true)
            {
                try
                {
                    using var response = await client.GetAsync(address, timeout.Token); // anonymous: redirected to the sign-in page
                    if ((int)response.StatusCode == 200)
                    {
                        var firstPage = watch.Elapsed.TotalMilliseconds;
                        lock (log)
                        {
                            return (listeningMs, firstPage, [.. log]);
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    // Listening but not answering yet: ask again.
                }

                await Task.Delay(10, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
            string text;
            lock (log)
            {
                text = string.Join(Environment.NewLine, log.TakeLast(30));
            }

            throw new InvalidOperationException($"the portal did not serve its first page: {ex.Message}{Environment.NewLine}{text}", ex);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }
    }

    // ------------------------------------------------------------------ (b) wizard actions

    private sealed class Samples
    {
        private readonly Dictionary<string, List<double>> _byAction = [];
        private readonly List<string> _order = [];
        private readonly HashSet<string> _busy = [];
        private readonly HashSet<string> _progress = [];

        /// <summary>A change: its page shows a progress bar while it runs.</summary>
        public bool ShowsBusy(string action) => _busy.Contains(action);

        /// <summary>A long operation: the service reports progress lines, which the page shows as they come.</summary>
        public bool ReportsProgress(string action) => _progress.Contains(action);

        public void MarkBusy(string action) => _busy.Add(action);

        public void MarkProgress(string action) => _progress.Add(action);

        public IEnumerable<(string Action, double[] Ms)> All => _order.Select(a => (a, _byAction[a].Order().ToArray()));

        public void Add(string action, double ms)
        {
            if (!_byAction.TryGetValue(action, out var list))
            {
                _byAction[action] = list = [];
                _order.Add(action);
            }

            list.Add(ms);
        }
    }

    /// <summary>Records when the first progress line arrived (the pages show it as soon as it does).</summary>
    private sealed class FirstProgress(Stopwatch watch) : IProgress<string>
    {
        public double? Ms { get; private set; }

        public void Report(string value) => Ms ??= watch.Elapsed.TotalMilliseconds;
    }

    private static async Task MeasureActionsAsync(int walks, int repeat, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine(Invariant($"## Wizard actions against the embedded emulator ({walks} setups walked from step 1 to 10, reads repeated {repeat}x per setup)"));
        output.WriteLine(Reference());

        var data = Directory.CreateTempSubdirectory("cheesecave-bench-actions-").FullName;
        var repositoryRoot = PortalContentRoot.FindRepositoryRoot(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException("run from a source checkout: the portal's appsettings.json and wwwroot/ sit at its root");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            // The portal's name, so its static-assets manifest (copied beside this benchmark) is the one mapped.
            ApplicationName = typeof(PortalContentRoot).Assembly.GetName().Name,
            ContentRootPath = repositoryRoot,
            EnvironmentName = Environments.Production,
        });
        builder.Configuration["CheeseCave:DataDirectory"] = data;
        builder.Configuration["CheeseCave:Emulator:HttpsPort"] = "0";
        builder.Configuration["CheeseCave:Emulator:MqttPort"] = "0";
        // The actions themselves (what an approved request runs); with four eyes on, each change would only record a request.
        builder.Configuration["CheeseCave:Approvals:Enabled"] = "false";
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Logging:LogLevel:Default"] = "Error"; // start-up lines and the first-run link would drown the figures
        builder.AddPortalServices();
        var app = builder.Build();
        app.MapPortalEndpoints();
        await app.StartAsync();
        try
        {
            var (caller, password) = await OperatorAsync(app.Services);
            var samples = new Samples();

            // Downloads are also fetched the way the browser does: GET with the sign-in cookie over the real socket.
            using var cookies = new HttpClientHandler { CookieContainer = new System.Net.CookieContainer(), AllowAutoRedirect = false };
            using var browser = new HttpClient(cookies) { BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/") };
            await SignInAsync(browser, "bench-operator", password);

            // One untimed walk: JIT, EF Core model building, the emulator's first TLS handshakes.
            await WalkAsync(app.Services, caller, browser, "warm", repeat: 1, new Samples());
            var watch = Stopwatch.StartNew();
            for (var i = 1; i <= walks; i++)
            {
                await WalkAsync(app.Services, caller, browser, $"b{i:000}", repeat, samples);
            }

            output.WriteLine(Invariant($"{walks} walks in {watch.Elapsed.TotalSeconds:0.0} s; all times in ms"));
            output.WriteLine();
            output.WriteLine("| Action | n | p50 | p95 | p99 | max | p95 under 200 ms | the page shows |");
            output.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (var (action, ms) in samples.All)
            {
                var p95 = Percentile(ms, 95);
                var shows = action.EndsWith(": first progress", StringComparison.Ordinal) ? "the first progress line"
                    : samples.ReportsProgress(action) ? "a progress bar with the service's steps"
                    : samples.ShowsBusy(action) ? "a progress bar" : "";
                output.WriteLine(Invariant($"| {action} | {ms.Length} | {Percentile(ms, 50):0.0} | {p95:0.0} | {Percentile(ms, 99):0.0} | {ms[^1]:0.0} | {(p95 <= ActionTargetMs ? "yes" : "NO")} | {shows} |"));
            }

            output.WriteLine();
            output.WriteLine(Reference());
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>
    /// An Operator with a random password (kept in memory for the sign-in below, never printed), and the principal its
    /// sign-in cookie would carry.
    /// </summary>
    private static async Task<(ClaimsPrincipal Caller, string Password)> OperatorAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = new PortalUser { UserName = "bench-operator", CreatedAt = DateTimeOffset.UtcNow };
        var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)) + " aA1!";
        var created = await users.CreateAsync(user, password);
        var added = created.Succeeded ? await users.AddToRoleAsync(user, PortalRoles.Operator) : created;
        if (!added.Succeeded)
        {
            throw new InvalidOperationException("could not create the benchmark user: " + string.Join(" ", added.Errors.Select(e => e.Description)));
        }

        return (await scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>().CreateUserPrincipalAsync(user), password);
    }

    /// <summary>Posts the sign-in form like a browser: the antiforgery token from the page, then the fields.</summary>
    private static async Task SignInAsync(HttpClient browser, string userName, string password)
    {
        var page = await browser.GetStringAsync(new Uri("account/login", UriKind.Relative));
        var token = AntiforgeryToken().Match(page);
        Require(token.Success, "no antiforgery token on the sign-in page");
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = System.Net.WebUtility.HtmlDecode(token.Groups[1].Value),
            ["_handler"] = "login",
            ["Input.UserName"] = userName,
            ["Input.Password"] = password,
        });
        using var response = await browser.PostAsync(new Uri("account/login", UriKind.Relative), form);
        Require(response.StatusCode == System.Net.HttpStatusCode.Redirect, $"sign-in answered {(int)response.StatusCode}, not a redirect");
    }

    private static async Task TimeGetAsync(Samples samples, string action, HttpClient browser, string path)
    {
        var watch = Stopwatch.StartNew();
        using var response = await browser.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsByteArrayAsync();
        samples.Add(action, watch.Elapsed.TotalMilliseconds);
        Require(response.IsSuccessStatusCode && body.Length > 0, $"GET {path} answered {(int)response.StatusCode}");
    }

    /// <summary>One setup from step 1 to 10, each action timed as the page would call it (one scope, like a circuit).</summary>
    private static async Task WalkAsync(IServiceProvider services, ClaimsPrincipal caller, HttpClient browser, string name, int repeat, Samples samples)
    {
        await using var scope = services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var dpsName = $"{name}-dps";
        var hubName = $"{name}-hub";

        for (var r = 0; r < repeat; r++)
        {
            await TimeAsync(samples, "list setups", async () => PortalResult.Ok(await wizard.Setups.ListAsync(caller)));
            await TimeAsync(samples, "1 list resource groups", () => wizard.Dps.ListResourceGroupsAsync(caller));
            var check = await TimeAsync(samples, "1 check DPS name", () => wizard.Dps.CheckDpsNameAsync(caller, dpsName));
            Require(check.IsValid, $"{dpsName} is not available: {check.Problem}");
        }

        var setupId = (await TimeChangeAsync(samples, "create setup", () => wizard.Setups.CreateAsync(caller, $"Bench {name}"))).Id;
        await TimeLongAsync(samples, "1 create DPS", progress => wizard.Dps.CreateDpsAsync(caller, setupId, ResourceGroup, dpsName, Location, progress));
        await TimeLongAsync(samples, "2 create hub", progress => wizard.Hubs.CreateHubAsync(caller, setupId, hubName, Location, progress));
        for (var r = 0; r < repeat; r++)
        {
            await TimeAsync(samples, "2 list hub policies", () => wizard.Hubs.ListHubPoliciesAsync(caller, ResourceGroup, hubName));
        }

        await TimeChangeAsync(samples, "2 link hub", () => wizard.Hubs.LinkHubAsync(caller, setupId, hubName, "iothubowner", 1, true));
        await TimeChangeAsync(samples, "3 set allocation policy", () => wizard.Allocation.SetAllocationPolicyAsync(caller, setupId, DpsAllocationPolicy.GeoLatency));
        await TimeChangeAsync(samples, "5 generate CA (root + intermediate)", () => wizard.CaGeneration.GenerateCaAsync(caller, setupId, $"Bench {name} Root CA", $"Bench {name} Intermediate CA", ProfilePreset.Recommended));
        await TimeChangeAsync(samples, "6 upload CA", () => wizard.Upload.UploadCaAsync(caller, setupId));
        await TimeLongAsync(samples, "7 verify CA (proof of possession)", progress => wizard.OneClickProof.VerifyCaAsync(caller, setupId, progress));

        SetupView view = null!;
        for (var r = 0; r < repeat; r++)
        {
            view = await TimeAsync(samples, "open a step (read the setup)", () => wizard.Setups.GetAsync(caller, setupId));
        }

        await TimeChangeAsync(samples, "8 save enrollment group", () => wizard.Enrollment.SaveEnrollmentGroupAsync(caller, setupId, new EnrollmentGroupForm
        {
            GroupId = $"{name}-devices",
            PrimaryCa = view.Root!.DpsCertificateName!,
            Hubs = [.. view.LinkedHubs.Select(h => h.HostName)],
            DesiredJson = """{ "targetHumidity": 92 }""",
        }));
        var one = await TimeChangeAsync(samples, "9 issue 1 device", () => wizard.Devices.IssueDevicesAsync(caller, setupId, [$"{name}-001"]));
        var ten = await TimeChangeAsync(samples, "9 issue 10 devices", () => wizard.Devices.IssueDevicesAsync(caller, setupId, [.. Enumerable.Range(2, 10).Select(n => $"{name}-{n:000}")]));
        var device = one.Devices.Single().Id;

        var https = await TimeLongAsync(samples, "10 test registration HTTPS", progress => wizard.Testing.TestRegistrationAsync(caller, setupId, device, DeviceTransport.Https, progress: progress));
        Require(https.Assigned, $"HTTPS registration of {name}-001 was not assigned: {https.ErrorMessage}");
        var mqtt = await TimeLongAsync(samples, "10 test registration MQTT", progress => wizard.Testing.TestRegistrationAsync(caller, setupId, device, DeviceTransport.Mqtt, progress: progress));
        Require(mqtt.Assigned, $"MQTT registration of {name}-001 was not assigned: {mqtt.ErrorMessage}");

        var root = view.Root!.Id;
        for (var r = 0; r < repeat; r++)
        {
            await TimeAsync(samples, "download CA .pem", () => wizard.CaDownloads.DownloadCertificateAsync(caller, setupId, root, der: false));
            await TimeAsync(samples, "download CA .cer", () => wizard.CaDownloads.DownloadCertificateAsync(caller, setupId, root, der: true));
            foreach (var kind in Enum.GetValues<DeviceFileKind>())
            {
                await TimeAsync(samples, $"download device {kind}", () => wizard.DeviceDownloads.DownloadDeviceFileAsync(caller, setupId, device, kind));
            }

            await TimeAsync(samples, "download batch ZIP (10 devices)", () => wizard.DeviceDownloads.DownloadBatchAsync(caller, setupId, ten.BatchId));
        }

        var deviceBase = $"setups/{setupId}/devices/{device}/{name}-001";
        for (var r = 0; r < repeat; r++)
        {
            await TimeGetAsync(samples, "GET CA .pem (HTTP, signed in)", browser, $"setups/{setupId}/certificates/{root}.pem");
            await TimeGetAsync(samples, "GET device .cert.pem (HTTP)", browser, deviceBase + ".cert.pem");
            await TimeGetAsync(samples, "GET device -chain.pem (HTTP)", browser, deviceBase + "-chain.pem");
            await TimeGetAsync(samples, "GET device .key.pem (HTTP)", browser, deviceBase + ".key.pem");
            await TimeGetAsync(samples, "GET device .pfx (HTTP)", browser, deviceBase + ".pfx");
            await TimeGetAsync(samples, "GET batch .zip (HTTP, 10 devices)", browser, $"setups/{setupId}/batches/{ten.BatchId}.zip");
        }
    }

    private static async Task<T> TimeChangeAsync<T>(Samples samples, string action, Func<Task<PortalResult<T>>> call)
    {
        samples.MarkBusy(action);
        return await TimeAsync(samples, action, call);
    }

    private static async Task<T> TimeAsync<T>(Samples samples, string action, Func<Task<PortalResult<T>>> call)
    {
        var watch = Stopwatch.StartNew();
        var result = await call();
        samples.Add(action, watch.Elapsed.TotalMilliseconds);
        Require(result.Succeeded, $"{action} failed: {result.Error?.Message} {result.Error?.WhatToDo}");
        return result.Value!;
    }

    private static async Task<T> TimeLongAsync<T>(Samples samples, string action, Func<IProgress<string>, Task<PortalResult<T>>> call)
    {
        var watch = Stopwatch.StartNew();
        var progress = new FirstProgress(watch);
        var result = await call(progress);
        samples.Add(action, watch.Elapsed.TotalMilliseconds);
        samples.MarkProgress(action);
        Require(result.Succeeded, $"{action} failed: {result.Error?.Message} {result.Error?.WhatToDo}");
        Require(progress.Ms is not null, $"{action} reported no progress");
        samples.Add(action + ": first progress", progress.Ms!.Value);
        return result.Value!;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Nearest-rank percentile of sorted samples.</summary>
    private static double Percentile(double[] sorted, double percent) =>
        sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>
    /// <c>openssl speed -seconds 3 ecdsap256</c> run now, on one core: the machine's speed at this minute, to read the
    /// figures against (the development machine is shared, so absolute times drift).
    /// </summary>
    private static string Reference() =>
        $"reference, same minute: openssl speed -seconds 3 ecdsap256: {OpenSslSpeed(elapsed: false)} (CPU time); with -elapsed (wall clock, shows how much of a core it got): {OpenSslSpeed(elapsed: true)}; {LoadAverage()}";

    private static string OpenSslSpeed(bool elapsed)
    {
        try
        {
            using var openssl = Process.Start(new ProcessStartInfo("openssl", elapsed ? "speed -elapsed -seconds 3 ecdsap256" : "speed -seconds 3 ecdsap256")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var stdout = openssl.StandardOutput.ReadToEndAsync();
            _ = openssl.StandardError.ReadToEndAsync();
            openssl.WaitForExit();
            var match = OpenSslLine().Match(stdout.Result);
            return match.Success
                ? $"{Number(match.Groups[1].Value)} signs/s, {Number(match.Groups[2].Value)} verifies/s"
                : "(openssl speed printed no ecdsa line)";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return "(openssl not found: " + ex.Message + ")";
        }

        static string Number(string value) => double.Parse(value, CultureInfo.InvariantCulture).ToString("#,0", CultureInfo.InvariantCulture);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";

    private static string RuntimeText() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    /// <summary>The portal built beside this benchmark in a source checkout (same configuration).</summary>
    private static string DefaultPortalDll()
    {
        var root = PortalContentRoot.FindRepositoryRoot(AppContext.BaseDirectory) ?? ".";
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        return Path.Combine(root, "src", "CheeseCave.Portal", "bin", configuration, "net10.0", "CheeseCave.Portal.dll");
    }

    private static Options Parse(string[] args)
    {
        string part = "both";
        int starts = 5, walks = 50, repeat = 5;
        string? dll = null;
        for (var i = 1; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Count()
            {
                var option = args[i];
                return int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{option} needs a positive whole number");
            }

            switch (args[i])
            {
                case "--part":
                    part = Value();
                    if (part is not ("start" or "actions" or "both"))
                    {
                        throw new ArgumentException("--part is start, actions or both");
                    }

                    break;
                case "--starts": starts = Count(); break;
                case "--walks": walks = Count(); break;
                case "--repeat": repeat = Count(); break;
                case "--portal-dll": dll = Path.GetFullPath(Value()); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new Options(part, starts, walks, repeat, dll);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    [GeneratedRegex(@"/setup/\S+")]
    private static partial Regex SetupToken();

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)")]
    private static partial Regex OpenSslLine();
}
