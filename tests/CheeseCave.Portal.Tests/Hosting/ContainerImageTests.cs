using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using CheeseCave.Portal.Hosting;
using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Hosting;

/// <summary>
/// No container daemon runs here, so the image is checked the way it is built: the portal published with the
/// Dockerfile's own publish arguments, started from the publish folder with the Dockerfile's environment (only the
/// port and the data folder moved to free ones), and probed with the command its HEALTHCHECK runs.
/// </summary>
public sealed partial class ContainerImageTests
{
    [Fact]
    public async Task The_published_portal_starts_with_the_image_s_settings_and_its_healthcheck_follows_the_ready_probe()
    {
        var root = PortalContentRoot.FindRepositoryRoot(AppContext.BaseDirectory)!;
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(root, "Dockerfile"));
        var publish = Assert.Single(PublishCommand().Matches(dockerfile.Replace("\\\n", " ", StringComparison.Ordinal))).Groups["args"].Value;
        var environment = EnvironmentBlock(dockerfile);
        Assert.Equal("/data", environment["CheeseCave__DataDirectory"]);
        Assert.Contains("HEALTHCHECK", dockerfile, StringComparison.Ordinal);
        Assert.Contains("USER $APP_UID", dockerfile, StringComparison.Ordinal);

        var work = Directory.CreateTempSubdirectory("cheesecave-image-").FullName;
        try
        {
            // The Dockerfile's publish arguments, with the output moved and the restore done here.
            var args = Regex.Replace(publish, @"--no-restore\s*", string.Empty).Replace("/app/publish", Path.Combine(work, "app"), StringComparison.Ordinal);
            var published = await RunAsync("dotnet", $"publish {args} -nologo", root, TimeSpan.FromMinutes(8));
            Assert.True(published.Code == 0, published.Output);
            var app = Path.Combine(work, "app");
            Assert.True(File.Exists(Path.Combine(app, "appsettings.json")));
            Assert.True(Directory.Exists(Path.Combine(app, "wwwroot")));

            var port = LoopbackPorts.Free();
            var url = $"http://127.0.0.1:{port}";
            var start = new ProcessStartInfo("dotnet", "CheeseCave.Portal.dll") { WorkingDirectory = app, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value.Replace("http://+:8080", url, StringComparison.Ordinal).Replace("/data", Path.Combine(work, "data"), StringComparison.Ordinal);
            }

            start.Environment["CheeseCave__Emulator__HttpsPort"] = "0"; // the image's 5543 and 8883 could be taken on a shared machine
            start.Environment["CheeseCave__Emulator__MqttPort"] = "0";
            start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
            start.Environment.Remove("DOTNET_ENVIRONMENT");
            var log = new StringBuilder();
            using var portal = Process.Start(start)!;
            portal.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            portal.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            portal.BeginOutputReadLine();
            portal.BeginErrorReadLine();
            try
            {
                using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                await WaitUntilReadyAsync(client, new Uri(url + "/health/ready"), portal, log);

                var healthy = await RunAsync("dotnet", $"CheeseCave.Portal.dll healthcheck {url}/health/ready", app, TimeSpan.FromMinutes(2));
                Assert.True(healthy.Code == 0, healthy.Output);
                lock (log)
                {
                    Assert.Contains("Hosting environment: Production", log.ToString(), StringComparison.Ordinal);
                }

                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(work, "data")));
            }
            finally
            {
                portal.Kill(entireProcessTree: true);
                await portal.WaitForExitAsync();
            }

            var down = await RunAsync("dotnet", $"CheeseCave.Portal.dll healthcheck {url}/health/ready", app, TimeSpan.FromMinutes(2));
            Assert.True(down.Code == 1, down.Output);
            Assert.Contains("did not answer", down.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task WaitUntilReadyAsync(HttpClient client, Uri ready, Process portal, StringBuilder log)
    {
        // Waits on the portal's own state (its ready probe), bounded only so that a portal that never comes up fails.
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline && !portal.HasExited)
        {
            try
            {
                using var response = await client.GetAsync(ready);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        lock (log)
        {
            Assert.Fail($"the published portal never became ready (exited: {portal.HasExited}):\n{log}");
        }
    }

    private static Dictionary<string, string> EnvironmentBlock(string dockerfile)
    {
        var block = EnvInstruction().Match(dockerfile.Replace("\\\n", " ", StringComparison.Ordinal)).Groups["pairs"].Value;
        return EnvPair().Matches(block).ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string arguments, string directory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await output + await error);
    }


    [GeneratedRegex(@"RUN dotnet publish (?<args>[^\n]+)")]
    private static partial Regex PublishCommand();

    [GeneratedRegex(@"\nENV (?<pairs>[^\n]+)")]
    private static partial Regex EnvInstruction();

    [GeneratedRegex(@"(?<key>[A-Za-z_][A-Za-z0-9_]*)=(?<value>\S+)")]
    private static partial Regex EnvPair();
}
