using System.Diagnostics;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Renewal;
using CheeseCave.Portal.Setups.Revocation;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Revocation;

/// <summary>
/// The portal renews and revokes (its own handlers, against its embedded emulator on 127.0.0.x:443/8883), and the
/// official Node device SDK registers over HTTPS and MQTT with the very files a user downloads from the portal:
/// the renewed certificate lands on the same hub, the revoked device is refused while its sibling registers, the
/// restored one registers again, and a certificate signed from the device's own CSR works with the device's key.
/// </summary>
public sealed class PortalFilesNodeSdkTests(Port443Portal portal) : IClassFixture<Port443Portal>, IDisposable
{
    private readonly string _files = Directory.CreateTempSubdirectory("cheesecave-node-proof-").FullName;

    [Fact]
    public async Task The_official_Node_device_SDK_accepts_what_the_portal_renewed_refuses_what_it_revoked_and_accepts_what_it_restored()
    {
        var op = await portal.UserAsync("node-op", PortalRoles.Operator);
        using var http = await portal.SignedInClientAsync("node-op");
        await using var scope = portal.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var renewal = scope.ServiceProvider.GetRequiredService<DeviceRenewalHandler>();
        var revocation = scope.ServiceProvider.GetRequiredService<DeviceRevocationHandler>();
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "nodecave", intermediate: true);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = "nodecave-devices", PrimaryCa = view.Root!.DpsCertificateName! })).Succeeded);
        var batch = (await wizard.Devices.IssueDevicesAsync(op, id, ["nodecave-001", "nodecave-002", "nodecave-003"])).Value!.Devices;
        var (renewing, stolen, sibling) = (batch[0], batch[1], batch[2]);
        var hub = view.LinkedHubs.Single().HostName;

        var files = new Dictionary<string, DeviceFiles>();
        foreach (var device in batch)
        {
            files[device.RegistrationId] = await DownloadAsync(http, id, device.Id, device.RegistrationId);
        }

        var first = await RegisterAsync(view.IdScope!, [.. batch.Select(d => Job($"{d.RegistrationId}-first", "http", files[d.RegistrationId]))]);
        Assert.All(first.Values, r => Assert.True(r.Assigned && r.AssignedHub == hub, Describe(r)));

        // Renewal with a portal key: the downloaded new certificate and key register on the same hub, both transports.
        var renewed = await renewal.RenewDeviceAsync(op, renewing.Id, null);
        Assert.True(renewed.Succeeded, renewed.Error?.Message);
        var renewedFiles = await DownloadAsync(http, id, renewed.Value!.Device.Id, "nodecave-001");
        Assert.NotEqual(files["nodecave-001"].Certificate, await File.ReadAllTextAsync(renewedFiles.CertFile));

        // Revocation: refused over HTTPS and MQTT, while the sibling of the same group registers over both.
        var revoked = await revocation.RevokeDeviceAsync(op, stolen.Id, "stolen from the cave");
        Assert.True(revoked.Succeeded, revoked.Error?.Message);

        var afterChanges = await RegisterAsync(view.IdScope!,
        [
            Job("renewed-http", "http", renewedFiles), Job("renewed-mqtt", "mqtt", renewedFiles),
            Job("revoked-http", "http", files["nodecave-002"]), Job("revoked-mqtt", "mqtt", files["nodecave-002"]),
            Job("sibling-http", "http", files["nodecave-003"]), Job("sibling-mqtt", "mqtt", files["nodecave-003"]),
        ]);
        foreach (var transport in new[] { "http", "mqtt" })
        {
            var again = afterChanges[$"renewed-{transport}"];
            Assert.True(again.Assigned, Describe(again));
            Assert.Equal(first["nodecave-001-first"].AssignedHub, again.AssignedHub);
            Assert.Equal("nodecave-001", again.DeviceId);

            var refused = afterChanges[$"revoked-{transport}"];
            Assert.False(refused.Assigned, $"the revoked device was admitted: {Describe(refused)}");
            // Refused by DPS (its registration state says disabled), not a transport or TLS failure.
            Assert.True(refused.Status == "disabled", $"expected DPS's 'disabled': {Describe(refused)}");
            Assert.DoesNotMatch("ECONNREFUSED|ENOTFOUND|ETIMEDOUT|self.signed|unable to verify", refused.Error ?? "");

            var admitted = afterChanges[$"sibling-{transport}"];
            Assert.True(admitted.Assigned && admitted.AssignedHub == hub, Describe(admitted));
        }

        // Restore: the same files register again, both transports.
        var restored = await revocation.RestoreDeviceAsync(op, stolen.Id);
        Assert.True(restored.Succeeded, restored.Error?.Message);
        var back = await RegisterAsync(view.IdScope!, [Job("restored-http", "http", files["nodecave-002"]), Job("restored-mqtt", "mqtt", files["nodecave-002"])]);
        Assert.All(back.Values, r => Assert.True(r.Assigned && r.AssignedHub == hub, Describe(r)));

        // Renewal from the device's CSR: the key is made "on the device" by openssl and never reaches the portal.
        var deviceKey = Path.Combine(_files, "nodecave-003-device.key.pem");
        var csr = await OpenSslCsrAsync(deviceKey, "nodecave-003");
        var signed = await renewal.RenewDeviceAsync(op, sibling.Id, csr);
        Assert.True(signed.Succeeded, signed.Error?.Message);
        Assert.Null(signed.Value!.PfxPassword);
        var signedFiles = await DownloadAsync(http, id, signed.Value.Device.Id, "nodecave-003", keyFile: deviceKey);
        var fromCsr = await RegisterAsync(view.IdScope!, [Job("csr-http", "http", signedFiles), Job("csr-mqtt", "mqtt", signedFiles)]);
        Assert.All(fromCsr.Values, r => Assert.True(r.Assigned && r.AssignedHub == hub && r.DeviceId == "nodecave-003", Describe(r)));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_files, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private sealed record DeviceFiles(string RegistrationId, string CertFile, string ChainFile, string KeyFile, string Certificate);

    private static NodeRegistration Job(string name, string transport, DeviceFiles files) =>
        new(name, transport, files.RegistrationId, files.CertFile, files.ChainFile, files.KeyFile);

    private Task<IReadOnlyDictionary<string, NodeRegistrationResult>> RegisterAsync(string idScope, IReadOnlyList<NodeRegistration> jobs) =>
        NodeDeviceSdk.RegisterAsync(portal.Endpoints, idScope, _files, jobs);

    /// <summary>The device's files through the portal's download endpoints, as its user gets them (key: the portal's, unless the device made its own).</summary>
    private async Task<DeviceFiles> DownloadAsync(HttpClient http, int setupId, int deviceId, string registrationId, string? keyFile = null)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_files, $"device-{deviceId}")).FullName;
        async Task<string> Fetch(string suffix)
        {
            using var response = await http.GetAsync(new Uri($"/setups/{setupId}/devices/{deviceId}/{registrationId}{suffix}", UriKind.Relative));
            Assert.True(response.IsSuccessStatusCode, $"download {registrationId}{suffix}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var path = Path.Combine(folder, registrationId + suffix);
            await File.WriteAllBytesAsync(path, await response.Content.ReadAsByteArrayAsync());
            return path;
        }

        var cert = await Fetch(".cert.pem");
        var chain = await Fetch("-chain.pem");
        var key = keyFile ?? await Fetch(".key.pem");
        return new DeviceFiles(registrationId, cert, chain, key, await File.ReadAllTextAsync(cert));
    }

    private static async Task<string> OpenSslCsrAsync(string keyFile, string commonName)
    {
        var csrFile = keyFile + ".csr";
        var start = new ProcessStartInfo("openssl")
        {
            ArgumentList = { "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyFile, "-subj", $"/CN={commonName}", "-out", csrFile },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"openssl req failed: {await errors}");
        return await File.ReadAllTextAsync(csrFile);
    }

    private static string Describe(NodeRegistrationResult r) =>
        $"{r.Name}: assigned={r.Assigned} status={r.Status} hub={r.AssignedHub} device={r.DeviceId} http={r.HttpStatus} {r.Error}";
}
