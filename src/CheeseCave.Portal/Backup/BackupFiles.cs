using System.Text.Json;

namespace CheeseCave.Portal.Backup;

/// <summary>Owner-only files and folders for the backup and the restore, created with their mode (no readable moment).</summary>
internal static class BackupFiles
{
    public const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static FileStream CreateOwnerOnlyFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerFile;
        }

        return new FileStream(path, options);
    }

    public static string CreateOwnerOnlyFolder(string path) =>
        OperatingSystem.IsWindows() ? Directory.CreateDirectory(path).FullName : Directory.CreateDirectory(path, OwnerFolder).FullName;

    public static string CreateOwnerOnlyTemporaryFolder(string parent, string prefix) =>
        CreateOwnerOnlyFolder(Path.Combine(parent, prefix + Guid.NewGuid().ToString("N")));

    /// <summary>True when the folder does not exist or holds nothing at all.</summary>
    public static bool IsMissingOrEmpty(string folder) => !Directory.Exists(folder) || !Directory.EnumerateFileSystemEntries(folder).Any();
}
