using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Automation.Grants;
using CheeseCave.Portal.Automation.Tokens;
using CheeseCave.Portal.Hosting;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static CheeseCave.Benchmarks.BenchmarkFigures;

namespace CheeseCave.Benchmarks;

/// <summary>
/// CSR signing through the API under one issuance grant (issue #10, item 7): the real portal (Production settings,
/// SQLite file, real Kestrel on a loopback port) in this process, and <c>--clients</c> factory lines, each an HttpClient
/// with one keep-alive connection and its own API token, posting pre-generated P-256 CSRs (PEM) as fast as answers come.
/// Reports throughput and latency percentiles after an untimed warm-up, checks that every 201 is a row in the inventory
/// and that the grant counted exactly those, and prints <c>openssl speed ecdsap256</c> before and after.
///
/// Usage (Release build): dotnet CheeseCave.Benchmarks.dll --csr-load [--requests 20000] [--clients 32] [--warmup 2000]
/// </summary>
public static class CsrLoadBenchmark
{
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        int requests = 20_000, clients = 32, warmup = 2_000;
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            var value = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
            _ = args[i] switch
            {
                "--requests" => requests = value,
                "--clients" => clients = value,
                "--warmup" => warmup = value,
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        output.WriteLine(Invariant($"## CSR signing through the API: {clients} keep-alive clients, {requests} measured requests after {warmup} warm-up, {Environment.ProcessorCount} logical cores, {RuntimeText()}, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        output.WriteLine(Reference());
        output.WriteLine(Invariant($"pre-generating {requests + warmup} CSRs (P-256) …"));
        var csrs = Enumerable.Range(0, requests + warmup).Select(i => Csr($"bench-{i:000000}")).ToArray();
        const int SettleRounds = 8;

        var data = Directory.CreateTempSubdirectory("cheesecave-bench-csr-").FullName;
        var app = Build(data);
        await app.StartAsync();
        try
        {
            var (grantId, tokens) = await PrepareAsync(app.Services, clients, requests + warmup * (SettleRounds + 1));
            var address = new Uri(app.Urls.First().TrimEnd('/') + $"/api/v1/grants/{grantId}/certificates");
            var lines = tokens.Select(token =>
            {
                var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionLifetime = Timeout.InfiniteTimeSpan });
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-pem-file"));
                return client;
            }).ToList();

            var warmedUp = (await RunAsync(lines, address, csrs[..warmup])).Signed;

            // Steady state, not start-up: the tiered JIT recompiles hot methods for a while after the first requests
            // (on 2 busy cores, longer than one warm-up). More warm-up rounds, with CSRs of their own, until a round
            // compiles almost nothing new.
            for (var round = 1; round <= SettleRounds; round++)
            {
                var compiledBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
                var extra = Enumerable.Range(0, warmup).Select(i => Csr($"bench-w{round}-{i:000000}")).ToArray();
                warmedUp += (await RunAsync(lines, address, extra)).Signed;
                var compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBefore;
                output.WriteLine(Invariant($"warm-up round {round}: {compiled} methods compiled"));
                if (compiled < 20)
                {
                    break;
                }
            }

            var jitBefore = (System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime());

            // What the process burns with no request at all (the embedded emulator, timers), so the per-request CPU can be read net of it.
            var idleBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var idleWatch = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(3));
            var idleCores = (Process.GetCurrentProcess().TotalProcessorTime - idleBefore).TotalSeconds / idleWatch.Elapsed.TotalSeconds;
            output.WriteLine(Invariant($"idle: the portal process uses {idleCores:0.00} cores with no requests"));
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var measured = await RunAsync(lines, address, csrs[warmup..]);
            var cpuPerRequest = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / requests;
            output.WriteLine(Invariant($"during the measured run the JIT compiled {System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore.Item1} methods in {(System.Runtime.JitInfo.GetCompilationTime() - jitBefore.Item2).TotalMilliseconds:0} ms"));
            var latencies = measured.Latencies.Order().ToArray();
            output.WriteLine();
            output.WriteLine("| Clients | Requests | Signed (201) | Other answers | Seconds | Per second | p50 ms | p95 ms | p99 ms | max ms | CPU ms per request (server and clients) |");
            output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
            output.WriteLine(Invariant($"| {clients} | {requests} | {measured.Signed} | {measured.Other} | {measured.Seconds:0.00} | {requests / measured.Seconds:#,0} | {Percentile(latencies, 50):0.0} | {Percentile(latencies, 95):0.0} | {Percentile(latencies, 99):0.0} | {latencies[^1]:0.0} | {cpuPerRequest:0.00} |"));

            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
            var rows = await db.SetupDevices.CountAsync(d => d.GrantId == grantId);
            var counted = await db.IssuanceGrants.Where(g => g.Id == grantId).Select(g => g.IssuedCount).SingleAsync();
            output.WriteLine(Invariant($"inventory check: {rows} certificates recorded under the grant, grant count {counted}, 201 answers {measured.Signed + warmedUp} (warm-up included) → {(rows == counted && rows == measured.Signed + warmedUp ? "consistent" : "MISMATCH")}"));
            output.WriteLine(Reference());
            lines.ForEach(l => l.Dispose());
            return rows == counted ? 0 : 1;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    private sealed record Run(double Seconds, int Signed, int Other, List<double> Latencies);

    private static async Task<Run> RunAsync(List<HttpClient> lines, Uri address, string[] csrs)
    {
        var next = -1;
        var signed = 0;
        var other = 0;
        var latencies = new List<double>[lines.Count];
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(lines.Select(async (client, line) =>
        {
            var mine = latencies[line] = new List<double>(csrs.Length / lines.Count + 1);
            int index;
            while ((index = Interlocked.Increment(ref next)) < csrs.Length)
            {
                var started = Stopwatch.GetTimestamp();
                using var content = new StringContent(csrs[index], Encoding.ASCII, "application/x-pem-file");
                using var response = await client.PostAsync(address, content);
                _ = await response.Content.ReadAsByteArrayAsync();
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    Interlocked.Increment(ref signed);
                }
                else
                {
                    Interlocked.Increment(ref other);
                }
            }
        }));
        return new Run(watch.Elapsed.TotalSeconds, signed, other, [.. latencies.SelectMany(l => l)]);
    }

    private static WebApplication Build(string data)
    {
        var repositoryRoot = PortalContentRoot.FindRepositoryRoot(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException("run from a source checkout: the portal's appsettings.json and wwwroot/ sit at its root");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(PortalContentRoot).Assembly.GetName().Name,
            ContentRootPath = repositoryRoot,
            EnvironmentName = Environments.Production,
        });
        builder.Configuration["CheeseCave:DataDirectory"] = data;
        builder.Configuration["CheeseCave:Emulator:HttpsPort"] = "0";
        builder.Configuration["CheeseCave:Emulator:MqttPort"] = "0";
        builder.Configuration["CheeseCave:Approvals:Enabled"] = "false"; // the grant itself; its approval is not what is measured
        builder.Configuration["Logging:LogLevel:Default"] = "Error";
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddPortalServices();
        var app = builder.Build();
        app.MapPortalEndpoints();
        return app;
    }

    /// <summary>An Operator, a setup with a generated root + intermediate CA, a grant large enough, and one token per line.</summary>
    private static async Task<(int GrantId, List<string> Tokens)> PrepareAsync(IServiceProvider services, int clients, int count)
    {
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = new PortalUser { UserName = "bench-line", CreatedAt = DateTimeOffset.UtcNow };
        var created = await users.CreateAsync(user, Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)) + " aA1!");
        if (!created.Succeeded || !(await users.AddToRoleAsync(user, PortalRoles.Operator)).Succeeded)
        {
            throw new InvalidOperationException("could not create the benchmark user");
        }

        ClaimsPrincipal caller = await scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>().CreateUserPrincipalAsync(user);
        var wizard = new SetupSlices(scope.ServiceProvider);
        var setupId = (await wizard.Setups.CreateAsync(caller, "csr-load")).Value!.Id;
        Require((await wizard.CaGeneration.GenerateCaAsync(caller, setupId, "Load Root", "Load Intermediate", ProfilePreset.Recommended)).Error);
        var grant = await scope.ServiceProvider.GetRequiredService<GrantHandler>().RequestAsync(caller, setupId, new GrantRequest("load", "bench-*", count, 365));
        Require(grant.Error);
        var tokens = new List<string>();
        var service = scope.ServiceProvider.GetRequiredService<ApiTokenService>();
        for (var i = 0; i < clients; i++)
        {
            var token = await service.CreateAsync(caller, new ApiTokenRequest($"line {i}", ["issue"], 1));
            Require(token.Error);
            tokens.Add(token.Value!.Secret);
        }

        return (grant.Value!.Id, tokens);
    }

    private static void Require(PortalError? error)
    {
        if (error is not null)
        {
            throw new InvalidOperationException(error.Message);
        }
    }

    private static string Csr(string cn)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
    }
}
