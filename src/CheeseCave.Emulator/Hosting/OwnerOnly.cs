namespace CheeseCave.Emulator.Hosting;

/// <summary>
/// Files and folders only the emulator's own user can read: the state holds the provisioningserviceowner and
/// iothubowner keys, the TLS folder the emulator CA's key. New ones are created 0600/0700 (no window in which they
/// are world-readable); existing ones from an older version are tightened when opened. A no-op on Windows.
/// </summary>
internal static class OwnerOnly
{
    public const UnixFileMode FolderPermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode FilePermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates the folder (and missing parents) 0700, and tightens it when it already exists.</summary>
    public static string CreateFolder(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return path;
        }

        var folder = Directory.CreateDirectory(path, FolderPermissions);
        if ((folder.UnixFileMode & ~FolderPermissions) != 0)
        {
            folder.UnixFileMode = FolderPermissions;
        }

        return path;
    }

    /// <summary>Options for a stream that creates its file 0600.</summary>
    public static FileStreamOptions Create(FileMode mode, FileAccess access, FileShare share = FileShare.Read)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FilePermissions;
        }

        return options;
    }

    /// <summary>Tightens an existing file to 0600 (UnixCreateMode applies only when a file is created).</summary>
    public static void Tighten(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsWindows() && File.Exists(path) && (File.GetUnixFileMode(path) & ~FilePermissions) != 0)
        {
            File.SetUnixFileMode(path, FilePermissions);
        }
    }
}
