using System.Net;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups.Rollover;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Backup;

/// <summary>The whole point of a backup: the data folder is lost, the backup is restored elsewhere, and the old CA still issues devices that provision.</summary>
public sealed class BackupRestoreJourneyTests : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("cheesecave-backup-journey-");

    [Fact]
    public async Task A_backup_of_a_running_portal_restored_into_an_empty_folder_issues_under_the_old_ca_and_the_device_provisions()
    {
        var backup = Path.Combine(_work.FullName, "portal.ccbackup");
        var passphrase = BackupRun.PassphraseFile(_work.FullName, "correct horse battery staple");
        int setupId;
        string rootThumbprint;
        await using (var original = new PortalFactory())
        {
            await original.CreateUserAsync("bk-op", PortalRoles.Operator);
            var op = await original.PrincipalForAsync("bk-op");
            await using var scope = original.Services.CreateAsyncScope();
            var driver = new RolloverDriver(scope.ServiceProvider);
            setupId = await driver.ProvisionedSetupAsync(op, "bkcave", "bkcave-001");
            rootThumbprint = (await driver.Wizard.Setups.GetAsync(op, setupId)).Value!.Root!.ThumbprintSha256;

            // Backed up while the portal runs (SQLite's online backup API), then the original folder is lost with it.
            var (code, output) = await BackupRun.RunAsync("backup", "--out", backup, "--passphrase-file", passphrase, "--data-directory", original.DataDirectory, "--iterations", "100000");
            Assert.True(code == 0, output);
            Assert.Contains("backup: wrote", output, StringComparison.Ordinal);
        }

        var bytes = await File.ReadAllBytesAsync(backup);
        Assert.Equal("CCBACKUP"u8.ToArray(), bytes[..8]);
        Assert.True(bytes.AsSpan().IndexOf("SQLite format 3"u8) < 0, "the database is readable in the backup file");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(backup));
        }

        var restoredFolder = Path.Combine(_work.FullName, "restored-data");
        var restored = await BackupRun.RunAsync("restore", "--from", backup, "--passphrase-file", passphrase, "--data-directory", restoredFolder);
        Assert.True(restored.ExitCode == 0, restored.Output);
        Assert.True(File.Exists(Path.Combine(restoredFolder, "restored-settings.json")));

        // The restored portal on a port of its own: sign in through the real form, then issue under the old CA.
        await using var portal = new PortalFactory { DataDirectory = restoredFolder };
        portal.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        portal.StartServer();
        var address = new Uri(portal.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = address };
        using (var signIn = await Forms.SignInAsync(browser, "bk-op", TestPasswords.Default))
        {
            Assert.True(signIn.StatusCode == HttpStatusCode.Redirect, $"{signIn.StatusCode} {signIn.Headers.Location}");
            Assert.DoesNotContain("login", signIn.Headers.Location?.ToString() ?? "", StringComparison.OrdinalIgnoreCase);
        }

        // Signed in: the restored setup opens at its current wizard step, not at the sign-in page.
        using (var setup = await browser.GetAsync(new Uri($"/setups/{setupId}", UriKind.Relative)))
        {
            Assert.True(setup.StatusCode == HttpStatusCode.Redirect, $"{setup.StatusCode}");
            Assert.StartsWith($"/setups/{setupId}/", setup.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
            using var step = await browser.GetAsync(setup.Headers.Location);
            Assert.Equal(HttpStatusCode.OK, step.StatusCode);
            Assert.Contains("bkcave", await step.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var again = await portal.PrincipalForAsync("bk-op");
        await using var after = portal.Services.CreateAsyncScope();
        var resumed = new RolloverDriver(after.ServiceProvider);
        Assert.Equal(rootThumbprint, (await resumed.Wizard.Setups.GetAsync(again, setupId)).Value!.Root!.ThumbprintSha256);
        var issued = await resumed.Wizard.Devices.IssueDevicesAsync(again, setupId, ["bkcave-002"]);
        Assert.True(issued.Succeeded, issued.Error?.Message);
        var device = await portal.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.SetupId == setupId && d.RegistrationId == "bkcave-002"));
        Assert.Contains("bkcave Intermediate", device.Issuer, StringComparison.Ordinal);

        var registration = await resumed.RegisterAsync(again, setupId, device.Id);
        Assert.True(registration.Assigned, registration.Status);
    }

    public void Dispose() => _work.Delete(recursive: true);
}
