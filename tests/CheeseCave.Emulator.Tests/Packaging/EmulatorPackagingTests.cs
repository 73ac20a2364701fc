using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CheeseCave.Emulator.Tests.Packaging;

/// <summary>
/// The emulator as it ships outside the portal: a .NET tool (`cheesecave-emulator`) and a container image. No container
/// daemon runs here, so the image is checked the way it is built: published with the Dockerfile's own arguments and
/// started with its command.
/// </summary>
public sealed partial class EmulatorPackagingTests : IDisposable
{
    private const string ResourceGroups = "/subscriptions/00000000-0000-4000-8000-00000000c4e5/resourcegroups?api-version=2022-09-01";
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(8);
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("cheesecave-emulator-packaging-");
    private readonly string _root = PackagedEmulator.RepositoryRoot();

    [Fact]
    public async Task The_packed_tool_installs_into_a_tool_path_starts_and_answers()
    {
        var packages = Path.Combine(_work.FullName, "packages");
        var packed = await PackagedEmulator.RunAsync("dotnet", ["pack", "src/CheeseCave.Emulator/CheeseCave.Emulator.csproj", "-c", "Release", "-o", packages, "-nologo"], _root, BuildTimeout);
        Assert.True(packed.Code == 0, packed.Output);
        var package = Assert.Single(Directory.GetFiles(packages, "CheeseCave.Emulator.*.nupkg"));

        // Only the folder just packed as a source: the install must not depend on (or pick up) anything published elsewhere.
        var config = Path.Combine(_work.FullName, "nuget.config");
        await File.WriteAllTextAsync(config, $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /><add key="local" value="{packages}" /></packageSources></configuration>""");
        var tools = Path.Combine(_work.FullName, "tools");
        var version = Path.GetFileNameWithoutExtension(package)["CheeseCave.Emulator.".Length..];
        var installed = await PackagedEmulator.RunAsync("dotnet", ["tool", "install", "CheeseCave.Emulator", "--tool-path", tools, "--configfile", config, "--version", version], _work.FullName, BuildTimeout);
        Assert.True(installed.Code == 0, installed.Output);
        var command = Path.Combine(tools, OperatingSystem.IsWindows() ? "cheesecave-emulator.exe" : "cheesecave-emulator");
        Assert.True(File.Exists(command), installed.Output);

        var data = Path.Combine(_work.FullName, "data");
        await using var emulator = await PackagedEmulator.StartAsync(command, ["--data-dir", data, "--https-port", "0", "--mqtt-port", "-1"], data);
        var (status, body) = await emulator.GetArmAsync(ResourceGroups);
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}\n{emulator.Output}");
        Assert.Contains("cheesecave-rg", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_image_runs_as_non_root_with_a_data_volume_and_its_command_binds_every_interface_explicitly()
    {
        var dockerfile = (await File.ReadAllTextAsync(Path.Combine(_root, "src", "CheeseCave.Emulator", "Dockerfile"))).Replace("\\\n", " ", StringComparison.Ordinal);
        Assert.Matches(@"(?m)^USER \$APP_UID$", dockerfile);
        Assert.Matches(@"(?m)^VOLUME /data$", dockerfile);
        var entrypoint = JsonSerializer.Deserialize<string[]>(Assert.Single(EntrypointLine().Matches(dockerfile)).Groups["json"].Value)!;
        var arguments = JsonSerializer.Deserialize<string[]>(Assert.Single(CommandLine().Matches(dockerfile)).Groups["json"].Value)!;
        Assert.Equal(["dotnet", "CheeseCave.Emulator.dll"], entrypoint);
        Assert.Equal("0.0.0.0", arguments[Array.IndexOf(arguments, "--bind") + 1]);

        // Published with the Dockerfile's own arguments (output moved, restore done here).
        var publish = Assert.Single(PublishLine().Matches(dockerfile)).Groups["args"].Value;
        var app = Path.Combine(_work.FullName, "app");
        var publishArguments = publish.Replace("--no-restore", "", StringComparison.Ordinal).Replace("/app/publish", app, StringComparison.Ordinal)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Append("-nologo");
        var published = await PackagedEmulator.RunAsync("dotnet", ["publish", .. publishArguments], _root, BuildTimeout);
        Assert.True(published.Code == 0, published.Output);

        // Started with the image's command: /data moved to a temporary folder, the ports to free ones.
        var data = Path.Combine(_work.FullName, "data");
        var run = arguments.Select(a => a == "/data" ? data : a).ToArray();
        run[Array.IndexOf(run, "--https-port") + 1] = "0";
        run[Array.IndexOf(run, "--mqtt-port") + 1] = "-1";
        await using var emulator = await PackagedEmulator.StartAsync("dotnet", [Path.Combine(app, entrypoint[1]), .. run], data);

        // Bound to every interface: it answers at an address other than 127.0.0.1 (the loopback default would not).
        var (status, body) = await emulator.GetArmAsync(ResourceGroups, host: "127.0.0.2");
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}\n{emulator.Output}");
    }

    public void Dispose() => _work.Delete(recursive: true);

    [GeneratedRegex(@"RUN dotnet publish (?<args>[^\n]+)")]
    private static partial Regex PublishLine();

    [GeneratedRegex(@"(?m)^ENTRYPOINT (?<json>\[.+\])$")]
    private static partial Regex EntrypointLine();

    [GeneratedRegex(@"(?m)^CMD (?<json>\[.+\])$")]
    private static partial Regex CommandLine();
}
