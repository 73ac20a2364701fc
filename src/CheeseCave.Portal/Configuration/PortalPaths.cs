namespace CheeseCave.Portal.Configuration;

/// <summary>Where the portal keeps its files, resolved once from <c>CheeseCave:DataDirectory</c> and the content root.</summary>
public sealed record PortalPaths(string DataDirectory)
{
    public const string DatabaseFileName = "cheesecave.db";

    public string DatabaseFile => Path.Combine(DataDirectory, DatabaseFileName);

    /// <summary>The Data Protection key ring (owner-only).</summary>
    public string KeysDirectory => Path.Combine(DataDirectory, "keys");

    /// <summary>Creates the key-ring folder readable by the portal's own user only, and tightens an existing one.</summary>
    public DirectoryInfo EnsureKeysDirectory()
    {
        EnsureDataDirectory();
        return EnsureOwnerOnly(KeysDirectory);
    }

    /// <summary>
    /// Creates the data folder readable by the portal's own user only (it holds the database, the key ring and the
    /// emulator's state with its owner keys), and tightens an existing one.
    /// </summary>
    public DirectoryInfo EnsureDataDirectory() => EnsureOwnerOnly(DataDirectory);

    private static DirectoryInfo EnsureOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return Directory.CreateDirectory(path);
        }

        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        var directory = Directory.CreateDirectory(path, OwnerOnly);
        if (directory.UnixFileMode != OwnerOnly)
        {
            directory.UnixFileMode = OwnerOnly;
        }

        return directory;
    }
}
