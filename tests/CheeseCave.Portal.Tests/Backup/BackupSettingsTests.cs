namespace CheeseCave.Portal.Tests.Backup;

/// <summary>The settings a backup records: what decides where people and devices reach the portal, never a secret.</summary>
public sealed class BackupSettingsTests(SmallBackup backup) : IClassFixture<SmallBackup>
{
    [Fact]
    public async Task A_backup_records_the_portal_settings_without_passwords_and_restore_puts_them_beside_the_data_with_every_file()
    {
        var source = Path.Combine(backup.Work.FullName, "settings-source-" + Guid.NewGuid().ToString("N"));
        var first = await BackupRun.RunAsync("restore", "--from", backup.File, "--passphrase-file", backup.PassphraseFile, "--data-directory", source);
        Assert.True(first.ExitCode == 0, first.Output);

        Directory.CreateDirectory(Path.Combine(source, "emulator"));
        await File.WriteAllBytesAsync(Path.Combine(source, "emulator", "empty.lock"), []); // an empty file has no tar data stream

        var file = Path.Combine(backup.Work.FullName, "settings-" + Guid.NewGuid().ToString("N") + ".ccbackup");
        var made = await BackupRun.RunAsync("backup", "--out", file, "--passphrase-file", backup.PassphraseFile, "--data-directory", source, "--iterations", "100000",
            "--CheeseCave:PublicUrl=https://portal.example", "--CheeseCave:KeyRing:Certificate:Password=pfx-secret-value", "--CheeseCave:Smtp:Password=smtp-secret-value");
        Assert.True(made.ExitCode == 0, made.Output);

        var target = Path.Combine(backup.Work.FullName, "settings-target-" + Guid.NewGuid().ToString("N"));
        var restored = await BackupRun.RunAsync("restore", "--from", file, "--passphrase-file", backup.PassphraseFile, "--data-directory", target);
        Assert.True(restored.ExitCode == 0, restored.Output);
        var settings = await File.ReadAllTextAsync(Path.Combine(target, "restored-settings.json"));
        Assert.True(settings.Contains("\"CheeseCave:PublicUrl\": \"https://portal.example\"", StringComparison.Ordinal), settings);
        Assert.Contains("CheeseCave:Emulator:HttpsPort", settings, StringComparison.Ordinal); // from appsettings.json
        Assert.DoesNotContain("secret-value", settings, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo(Path.Combine(target, "emulator", "empty.lock")).Length);
    }
}
