namespace CheeseCave.Portal.Backup;

/// <summary>What a backup holds, written first in the archive and shown on restore. No secret is in it.</summary>
internal sealed record BackupManifest(
    int Format,
    DateTimeOffset CreatedAt,
    string PortalVersion,
    string SourceDataDirectory,
    int KeyRingKeys,
    int KeyRingKeysEncrypted,
    string KeyRingLocation,
    int Files)
{
    public const string EntryName = "manifest.json";
    public const string SettingsEntryName = "settings.json";
    public const string DatabaseEntryName = "database/" + Configuration.PortalPaths.DatabaseFileName;
    public const string DataPrefix = "data/";

    /// <summary>Where restore puts the settings recorded at backup time (the portal never reads this file).</summary>
    public const string RestoredSettingsFileName = "restored-settings.json";
}
