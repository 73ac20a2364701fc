using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using CheeseCave.Pki;
using CheeseCave.Portal.Hosting;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static CheeseCave.Benchmarks.BenchmarkFigures;

namespace CheeseCave.Benchmarks;

/// <summary>The portal benchmark's part (b): every wizard action against the embedded emulator, in-process (see <see cref="PortalBenchmark"/>).</summary>
internal static partial class PortalActionsBenchmark
{
    private const double ActionTargetMs = 200;
    private const string ResourceGroup = "cheesecave-rg";
    private const string Location = "eastus";

    public static async Task MeasureAsync(int walks, int repeat, TextWriter output)
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
            var samples = new ActionSamples();

            // Downloads are also fetched the way the browser does: GET with the sign-in cookie over the real socket.
            using var cookies = new HttpClientHandler { CookieContainer = new System.Net.CookieContainer(), AllowAutoRedirect = false };
            using var browser = new HttpClient(cookies) { BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/") };
            await SignInAsync(browser, "bench-operator", password);

            // One untimed walk: JIT, EF Core model building, the emulator's first TLS handshakes.
            await WalkAsync(app.Services, caller, browser, "warm", repeat: 1, new ActionSamples());
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

    private static async Task TimeGetAsync(ActionSamples samples, string action, HttpClient browser, string path)
    {
        var watch = Stopwatch.StartNew();
        using var response = await browser.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsByteArrayAsync();
        samples.Add(action, watch.Elapsed.TotalMilliseconds);
        Require(response.IsSuccessStatusCode && body.Length > 0, $"GET {path} answered {(int)response.StatusCode}");
    }

    /// <summary>One setup from step 1 to 10, each action timed as the page would call it (one scope, like a circuit).</summary>
    private static async Task WalkAsync(IServiceProvider services, ClaimsPrincipal caller, HttpClient browser, string name, int repeat, ActionSamples samples)
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

    private static async Task<T> TimeChangeAsync<T>(ActionSamples samples, string action, Func<Task<PortalResult<T>>> call)
    {
        samples.MarkBusy(action);
        return await TimeAsync(samples, action, call);
    }

    private static async Task<T> TimeAsync<T>(ActionSamples samples, string action, Func<Task<PortalResult<T>>> call)
    {
        var watch = Stopwatch.StartNew();
        var result = await call();
        samples.Add(action, watch.Elapsed.TotalMilliseconds);
        Require(result.Succeeded, $"{action} failed: {result.Error?.Message} {result.Error?.WhatToDo}");
        return result.Value!;
    }

    private static async Task<T> TimeLongAsync<T>(ActionSamples samples, string action, Func<IProgress<string>, Task<PortalResult<T>>> call)
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

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
