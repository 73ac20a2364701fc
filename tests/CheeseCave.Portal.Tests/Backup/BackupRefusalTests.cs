using System.Buffers.Binary;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Backup;

/// <summary>One small backup of a started portal, shared by the refusal tests (each works on its own copy).</summary>
public sealed class SmallBackup : IAsyncLifetime
{
    public const string Passphrase = "a passphrase long enough";

    public DirectoryInfo Work { get; } = Directory.CreateTempSubdirectory("cheesecave-backup-refusals-");

    public string File => Path.Combine(Work.FullName, "small.ccbackup");

    public string PassphraseFile => Path.Combine(Work.FullName, "backup.pass");

    public async Task InitializeAsync()
    {
        BackupRun.PassphraseFile(Work.FullName, Passphrase);
        await using var portal = new PortalFactory();
        _ = portal.Services.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>();
        var (code, output) = await BackupRun.RunAsync("backup", "--out", File, "--passphrase-file", PassphraseFile, "--data-directory", portal.DataDirectory, "--iterations", "100000");
        Assert.True(code == 0, output);
    }

    public Task DisposeAsync()
    {
        Work.Delete(recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>A wrong passphrase, a changed or cut file, a non-empty target: refused with one sentence, nothing written.</summary>
public sealed class BackupRefusalTests(SmallBackup backup) : IClassFixture<SmallBackup>
{
    private string Target { get; } = Path.Combine(backup.Work.FullName, "target-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_wrong_passphrase_is_refused_and_nothing_is_written()
    {
        var wrong = Path.Combine(backup.Work.FullName, "wrong-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(wrong, "not the passphrase at all");

        var (code, output) = await BackupRun.RunAsync("restore", "--from", backup.File, "--passphrase-file", wrong, "--data-directory", Target);

        Assert.Equal(1, code);
        Assert.Contains("The passphrase does not open this backup", output, StringComparison.Ordinal);
        AssertNothingWritten();
    }

    [Theory]
    [InlineData("middle")]
    [InlineData("header salt")]
    [InlineData("last byte")]
    public async Task A_changed_byte_is_refused_as_damaged_and_nothing_is_written(string where)
    {
        var bytes = await File.ReadAllBytesAsync(backup.File);
        var at = where switch { "middle" => bytes.Length / 2, "header salt" => 20, _ => bytes.Length - 1 };
        bytes[at] ^= 0x01;
        var copy = await CopyAsync(bytes);

        var (code, output) = await BackupRun.RunAsync("restore", "--from", copy, "--passphrase-file", backup.PassphraseFile, "--data-directory", Target);

        Assert.Equal(1, code);
        Assert.True(output.Contains("damaged or was changed", StringComparison.Ordinal) || output.Contains("(or the file's header was changed)", StringComparison.Ordinal), output);
        AssertNothingWritten();
    }

    [Fact]
    public async Task A_file_cut_short_is_refused_and_nothing_is_written()
    {
        var bytes = await File.ReadAllBytesAsync(backup.File);
        var copy = await CopyAsync(bytes[..(bytes.Length - 40)]);

        var (code, output) = await BackupRun.RunAsync("restore", "--from", copy, "--passphrase-file", backup.PassphraseFile, "--data-directory", Target);

        Assert.Equal(1, code);
        Assert.Contains("cut short", output, StringComparison.Ordinal);
        AssertNothingWritten();
    }

    [Fact]
    public async Task A_huge_iteration_count_in_the_header_is_refused_before_any_work()
    {
        var bytes = await File.ReadAllBytesAsync(backup.File);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12, 4), int.MaxValue);
        var copy = await CopyAsync(bytes);

        var (code, output) = await BackupRun.RunAsync("restore", "--from", copy, "--passphrase-file", backup.PassphraseFile, "--data-directory", Target);

        Assert.Equal(1, code);
        Assert.Contains("2,147,483,647 key-derivation iterations", output, StringComparison.Ordinal);
        AssertNothingWritten();
    }

    [Fact]
    public async Task A_non_empty_data_folder_is_refused_without_force_and_moved_aside_with_it()
    {
        Directory.CreateDirectory(Target);
        await File.WriteAllTextAsync(Path.Combine(Target, "cheesecave.db"), "the current portal's database");

        var (code, output) = await BackupRun.RunAsync("restore", "--from", backup.File, "--passphrase-file", backup.PassphraseFile, "--data-directory", Target);
        Assert.Equal(1, code);
        Assert.Contains("is not empty, so nothing was restored", output, StringComparison.Ordinal);
        Assert.Equal("the current portal's database", await File.ReadAllTextAsync(Path.Combine(Target, "cheesecave.db")));

        var forced = await BackupRun.RunAsync("restore", "--from", backup.File, "--passphrase-file", backup.PassphraseFile, "--data-directory", Target, "--force");
        Assert.True(forced.ExitCode == 0, forced.Output);
        var aside = Assert.Single(Directory.GetDirectories(backup.Work.FullName, Path.GetFileName(Target) + ".before-restore-*"));
        Assert.Equal("the current portal's database", await File.ReadAllTextAsync(Path.Combine(aside, "cheesecave.db")));
        Assert.StartsWith("SQLite format 3", await File.ReadAllTextAsync(Path.Combine(Target, "cheesecave.db")), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Target));
        }
    }

    [Fact]
    public async Task A_backup_needs_a_passphrase_of_twelve_characters_and_a_place_outside_the_data_folder()
    {
        var shortPass = Path.Combine(backup.Work.FullName, "short-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(shortPass, "short");
        Directory.CreateDirectory(Target);
        File.WriteAllText(Path.Combine(Target, "cheesecave.db"), "");

        var (code, output) = await BackupRun.RunAsync("backup", "--out", Path.Combine(backup.Work.FullName, "x.ccbackup"), "--passphrase-file", shortPass, "--data-directory", Target);
        Assert.Equal(1, code);
        Assert.Contains("shorter than 12 characters", output, StringComparison.Ordinal);

        var inside = await BackupRun.RunAsync("backup", "--out", Path.Combine(Target, "x.ccbackup"), "--passphrase-file", backup.PassphraseFile, "--data-directory", Target);
        Assert.Equal(1, inside.ExitCode);
        Assert.Contains("inside the data folder", inside.Output, StringComparison.Ordinal);

        var usage = await BackupRun.RunAsync("restore", "--from", backup.File);
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--from and --passphrase-file are required", usage.Output, StringComparison.Ordinal);
    }

    private async Task<string> CopyAsync(byte[] bytes)
    {
        var copy = Path.Combine(backup.Work.FullName, "copy-" + Guid.NewGuid().ToString("N") + ".ccbackup");
        await File.WriteAllBytesAsync(copy, bytes);
        return copy;
    }

    /// <summary>No target folder, and no staging folder left beside it.</summary>
    private void AssertNothingWritten()
    {
        Assert.False(Directory.Exists(Target), "the target data folder was created");
        Assert.Empty(Directory.GetDirectories(backup.Work.FullName, "." + Path.GetFileName(Target) + ".restoring-*"));
    }
}
