using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CheeseCave.E2E;

/// <summary>
/// The portal as its own operating-system process (the build output, Production environment, loopback HTTP), so a
/// test can kill it outright the way a crash or an OOM kill would. Output is kept for the failure message.
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private PortalProcess(Process process, int port, string dataDirectory)
    {
        _process = process;
        Port = port;
        DataDirectory = dataDirectory;
        process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    public string DataDirectory { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the portal with <paramref name="settings"/> (configuration keys, e.g. "CheeseCave:Cluster:Instances") and waits until it is live.</summary>
    public static async Task<PortalProcess> StartAsync(IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var root = RepositoryRoot();
        var project = Path.Combine(root, "src", "CheeseCave.Portal");
        var dll = Path.Combine(project, "bin", "Debug", "net10.0", "CheeseCave.Portal.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the solution first (tests/run.sh does).");
        }

        var port = FreePort();
        var data = Path.Combine(Path.GetTempPath(), "cheesecave-process-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet", [dll]) { WorkingDirectory = project, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["urls"] = $"http://127.0.0.1:{port}"; // the key the embedded defaults set
        start.Environment["CheeseCave__DataDirectory"] = data;
        start.Environment["CheeseCave__Emulator__HttpsPort"] = "0";
        start.Environment["CheeseCave__Emulator__MqttPort"] = "0";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var portal = new PortalProcess(Process.Start(start)!, port, data);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (portal._process.HasExited)
            {
                throw new InvalidOperationException($"The portal exited with {portal._process.ExitCode} before it was live:\n{portal.Output}");
            }

            try
            {
                using var live = await client.GetAsync(new Uri(portal.Address, "health/live"), cancellationToken);
                if (live.StatusCode == HttpStatusCode.OK)
                {
                    return portal;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(100, cancellationToken); // polling the process's own readiness, not guessing a duration
        }
    }

    /// <summary>Kills the process at once (SIGKILL): no shutdown hooks, no clean stop recorded.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "CheeseCavePortal.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (CheeseCavePortal.sln) was not found above " + AppContext.BaseDirectory);
    }
}
