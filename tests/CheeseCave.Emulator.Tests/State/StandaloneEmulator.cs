using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Tests.State;

/// <summary>
/// The standalone emulator as a child process (`dotnet CheeseCave.Emulator.dll --data-dir DIR --https-port 0
/// --mqtt-port -1`), reached only through what it publishes in DIR/endpoints.json, so it can be killed hard.
/// </summary>
internal sealed class StandaloneEmulator : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly X509Certificate2 _ca;

    private StandaloneEmulator(Process process, StringBuilder output, string dataDirectory, EmulatorEndpoints endpoints)
    {
        _process = process;
        _output = output;
        DataDirectory = dataDirectory;
        Endpoints = endpoints;
        _ca = X509CertificateLoader.LoadCertificate(PemBody(File.ReadAllText(endpoints.TrustBundle)));
        Arm = CreateClient();
        Arm.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", endpoints.BearerToken);
    }

    public string DataDirectory { get; }

    public EmulatorEndpoints Endpoints { get; }

    public int ProcessId => _process.Id;

    /// <summary>An HTTP client with the bearer token of this run.</summary>
    public HttpClient Arm { get; }

    /// <summary>What the process printed so far (stdout and stderr), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>The emulator assembly: next to the test assembly (it is a project reference), else the repository's build output.</summary>
    public static string LocateAssembly()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "CheeseCave.Emulator.dll");
        if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
        {
            return beside;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var project = Path.Combine(directory.FullName, "src", "CheeseCave.Emulator", "bin");
            if (Directory.Exists(project))
            {
                var built = Directory.GetFiles(project, "CheeseCave.Emulator.dll", SearchOption.AllDirectories).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
                if (built is not null) return built;
            }
        }

        throw new FileNotFoundException("CheeseCave.Emulator.dll was not found next to the tests or under src/CheeseCave.Emulator/bin; build the emulator first.");
    }

    /// <summary>Starts the process on <paramref name="dataDirectory"/> and waits until it has written a fresh endpoints.json.</summary>
    public static async Task<StandaloneEmulator> StartAsync(string dataDirectory)
    {
        var endpointsPath = Path.Combine(dataDirectory, EmulatorEndpoints.FileName);
        File.Delete(endpointsPath); // a previous run's file would name a port nobody listens on any more
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { LocateAssembly(), "--data-dir", dataDirectory, "--https-port", "0", "--mqtt-port", "-1" })
        {
            start.ArgumentList.Add(argument);
        }

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

        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (File.Exists(endpointsPath))
            {
                try
                {
                    var endpoints = EmulatorEndpoints.Read(dataDirectory);
                    return new StandaloneEmulator(process, output, dataDirectory, endpoints);
                }
                catch (Exception ex) when (ex is IOException or JsonException)
                {
                    // being written: try again
                }
            }

            if (process.HasExited || watch.Elapsed > StartTimeout)
            {
                var exited = process.HasExited ? $"exited with {process.ExitCode}" : $"did not write {EmulatorEndpoints.FileName} within {StartTimeout.TotalSeconds} s";
                if (!process.HasExited) process.Kill();
                process.Dispose();
                string text;
                lock (output) text = output.ToString();
                throw new InvalidOperationException($"The emulator {exited}. Output:\n{text}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>An HTTP client that trusts only this emulator's CA, optionally presenting a device chain.</summary>
    public HttpClient CreateClient(X509Certificate2? clientCertificate = null, IEnumerable<X509Certificate2>? intermediates = null)
    {
        var ca = _ca;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                },
            },
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificateContext = SslStreamCertificateContext.Create(
                clientCertificate, new X509Certificate2Collection((intermediates ?? []).ToArray()), offline: true);
        }

        return new HttpClient(handler) { BaseAddress = new Uri(Endpoints.ArmEndpoint) };
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public async Task KillHardAsync()
    {
        _process.Kill(entireProcessTree: false); // SIGKILL on Unix
        await _process.WaitForExitAsync();
    }

    /// <summary>Sends SIGTERM with the kill command, as a service manager or `docker stop` does (the shell's builtin: procps may be absent).</summary>
    public async Task TerminateAsync()
    {
        var pid = _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var kill = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "kill -TERM " + pid]) { UseShellExecute = false })!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits for the process to end; false if it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public int ExitCode => _process.ExitCode;

    private static byte[] PemBody(string pem)
    {
        var fields = System.Security.Cryptography.PemEncoding.Find(pem);
        return Convert.FromBase64String(pem[fields.Base64Data]);
    }

    public async ValueTask DisposeAsync()
    {
        Arm.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _ca.Dispose();
    }
}
