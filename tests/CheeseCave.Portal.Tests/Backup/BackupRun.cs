using CheeseCave.Portal.Backup;

namespace CheeseCave.Portal.Tests.Backup;

/// <summary>Runs the backup and restore verbs exactly as Program.cs dispatches them, keeping what they print.</summary>
internal static class BackupRun
{
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exitCode = await BackupCommand.RunAsync(args, output);
        return (exitCode, output.ToString());
    }

    public static string PassphraseFile(string folder, string passphrase)
    {
        var path = Path.Combine(folder, "backup.pass");
        File.WriteAllText(path, passphrase + "\n"); // as `echo` writes it
        return path;
    }
}
