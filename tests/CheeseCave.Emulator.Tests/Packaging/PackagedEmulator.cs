using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Tests.Packaging;

/// <summary>
/// Runs the emulator as it ships (the installed tool, or the published output with the image's command) and waits,
/// as a test suite would, until it has written endpoints.json; then asks ARM over TLS trusting only its own CA.
/// </summary>
internal sealed class PackagedEmulator : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly StringBuilder _output;

    private PackagedEmulator(Process process, StringBuilder output, EmulatorEndpoints endpoints)
    {
        _process = process;
        _output = output;
        Endpoints = endpoints;
    }

    public EmulatorEndpoints Endpoints { get; }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CheeseCavePortal.sln"))) return directory.FullName;
        }

        throw new DirectoryNotFoundException("The repository root (CheeseCavePortal.sln) is not above the test assembly.");
    }

    /// <summary>Runs a command to its end and returns its exit code and everything it printed.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> arguments, string directory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout}.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    public static async Task<PackagedEmulator> StartAsync(string file, IEnumerable<string> arguments, string dataDirectory)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        void Collect(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
        }

        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Readiness is endpoints.json: written only once every listener is up (README, "Using it from your tests").
        var watch = Stopwatch.StartNew();
        var endpointsFile = Path.Combine(dataDirectory, EmulatorEndpoints.FileName);
        while (true)
        {
            if (File.Exists(endpointsFile))
            {
                try
                {
                    return new PackagedEmulator(process, output, EmulatorEndpoints.Read(dataDirectory));
                }
                catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException)
                {
                    // being replaced: read it again
                }
            }

            if (process.HasExited || watch.Elapsed > StartTimeout)
            {
                var why = process.HasExited ? $"exited with {process.ExitCode}" : "wrote no endpoints.json in time";
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.Dispose();
                lock (output) throw new InvalidOperationException($"The emulator {why}. Output:\n{output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>GET on ARM with the run's bearer token, over TLS that trusts the emulator's trust bundle and nothing else (at another <paramref name="host"/> address if given).</summary>
    public async Task<(System.Net.HttpStatusCode Status, string Body)> GetArmAsync(string pathAndQuery, string? host = null)
    {
        using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Endpoints.TrustBundle));
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    // Reached by another address than the certificate's names (host given): the chain must still be the emulator's.
                    var tolerated = SslPolicyErrors.RemoteCertificateChainErrors | (host is null ? SslPolicyErrors.None : SslPolicyErrors.RemoteCertificateNameMismatch);
                    if (certificate is null || (errors & ~tolerated) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                },
            },
        };
        var baseAddress = new UriBuilder(Endpoints.ArmEndpoint);
        if (host is not null) baseAddress.Host = host;
        using var client = new HttpClient(handler) { BaseAddress = baseAddress.Uri };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Endpoints.BearerToken);
        using var response = await client.GetAsync(new Uri(pathAndQuery, UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
