using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CheeseCave.Portal.Tests.Setups.Revocation;

/// <summary>One registration for the Node script: which files the device presents, over which transport.</summary>
public sealed record NodeRegistration(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("transport")] string Transport,
    [property: JsonPropertyName("registrationId")] string RegistrationId,
    [property: JsonPropertyName("certFile")] string CertFile,
    [property: JsonPropertyName("chainFile")] string ChainFile,
    [property: JsonPropertyName("keyFile")] string KeyFile);

/// <summary>What the official SDK got from DPS for one registration.</summary>
public sealed record NodeRegistrationResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("assigned")] bool Assigned,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("assignedHub")] string? AssignedHub,
    [property: JsonPropertyName("deviceId")] string? DeviceId,
    [property: JsonPropertyName("httpStatus")] int? HttpStatus,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>
/// Runs tests/conformance/tools/register-devices.js: the official Azure IoT DPS device SDK for Node
/// (azure-iot-provisioning-device with its -http and -mqtt transports, from tests/conformance/node_modules). Missing
/// node or packages fail the test with what to do; nothing is skipped.
/// </summary>
public static class NodeDeviceSdk
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static string ConformanceDirectory { get; } = Path.Combine(RepositoryRoot(), "tests", "conformance");

    public static async Task<IReadOnlyDictionary<string, NodeRegistrationResult>> RegisterAsync(
        CheeseCave.Emulator.Hosting.EmulatorEndpoints endpoints, string idScope, string workDirectory, IReadOnlyList<NodeRegistration> registrations)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(registrations);
        var packages = Path.Combine(ConformanceDirectory, "node_modules", "azure-iot-provisioning-device");
        Assert.True(Directory.Exists(packages),
            $"The official Node SDK packages are missing ({packages}): run \"npm ci\" in tests/conformance (tests/run.sh installs them before the .NET suites).");

        var jobs = Path.Combine(workDirectory, $"jobs-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(jobs, JsonSerializer.Serialize(new
        {
            deviceProvisioningHost = endpoints.DeviceProvisioningHost,
            mqttHost = endpoints.MqttHost,
            idScope,
            registrations,
        }, Json));

        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { Path.Combine(ConformanceDirectory, "tools", "register-devices.js"), jobs },
            WorkingDirectory = ConformanceDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["NODE_EXTRA_CA_CERTS"] = endpoints.TrustBundle; // the emulator's TLS CA, as the suite trusts it
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("node (>= 20) is required for the Node SDK proof: install Debian's nodejs (tests/run.sh does).", ex);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            // A bound, not a synchronisation: each registration is a few round trips; a hung SDK must not hang the suite.
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"register-devices.js did not finish within 3 minutes: {await errors}");
            }

            var (stdout, stderr) = (await output, await errors);
            Assert.True(process.ExitCode == 0, $"register-devices.js exited with {process.ExitCode}: {stderr}");
            var results = JsonSerializer.Deserialize<List<NodeRegistrationResult>>(stdout.Trim(), Json)
                ?? throw new InvalidOperationException($"register-devices.js printed nothing: {stderr}");
            return results.ToDictionary(r => r.Name);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CheeseCavePortal.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No CheeseCavePortal.sln above {AppContext.BaseDirectory}.");
    }
}
