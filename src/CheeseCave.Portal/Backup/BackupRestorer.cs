using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace CheeseCave.Portal.Backup;

/// <summary>
/// Restores a backup into a data folder. Everything is checked before the folder is touched: the passphrase (against
/// the header's check value), every chunk's integrity, every entry's name, the database's own integrity check. The
/// files are written to a temporary folder beside the target and moved into place at the end, so a refused or failed
/// restore writes nothing where the portal looks. A non-empty target is refused unless forced; forced, it is moved aside,
/// never deleted.
/// </summary>
internal sealed class BackupRestorer(TimeProvider time)
{
    public async Task<RestoreResult> RestoreAsync(string backupFile, string passphrase, string dataDirectory, bool force, CancellationToken cancellationToken)
    {
        if (!File.Exists(backupFile))
        {
            throw new BackupException($"There is no backup file at {backupFile}.");
        }

        var target = Path.GetFullPath(dataDirectory).TrimEnd(Path.DirectorySeparatorChar);
        if (!force && !BackupFiles.IsMissingOrEmpty(target))
        {
            throw new BackupException($"The data folder {target} is not empty, so nothing was restored. Restore into an empty folder (--data-directory), or add --force to move the current contents aside to {target}.before-restore-<time> first.");
        }

        var parent = Path.GetDirectoryName(target) ?? throw new BackupException($"{target} cannot be a data folder.");
        Directory.CreateDirectory(parent);
        await using var input = new FileStream(backupFile, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        var header = await BackupHeader.ReadAsync(input, cancellationToken).ConfigureAwait(false);
        var key = header.DeriveKeys(passphrase, out var checkKey);
        try
        {
            if (!header.PassphraseMatches(checkKey))
            {
                throw new BackupException("The passphrase does not open this backup (or the file's header was changed). Nothing was restored; check the passphrase file, including its last line.");
            }

            // Beside the target, so the final move is a rename on one file system.
            var staging = BackupFiles.CreateOwnerOnlyTemporaryFolder(parent, "." + Path.GetFileName(target) + ".restoring-");
            try
            {
                var manifest = await ExtractAsync(input, key, header, staging, cancellationToken).ConfigureAwait(false);
                CheckDatabase(Path.Combine(staging, Configuration.PortalPaths.DatabaseFileName));
                var aside = MoveIntoPlace(staging, target);
                return new RestoreResult(manifest, target, aside);
            }
            catch
            {
                SqliteConnection.ClearAllPools();
                if (Directory.Exists(staging))
                {
                    Directory.Delete(staging, recursive: true);
                }

                throw;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(checkKey);
        }
    }

    private static async Task<BackupManifest> ExtractAsync(Stream input, byte[] key, BackupHeader header, string staging, CancellationToken cancellationToken)
    {
        BackupManifest? manifest = null;
        var database = false;
        try
        {
            using var decrypting = new DecryptingStream(input, key, header);
            await using var decompressing = new GZipStream(decrypting, CompressionMode.Decompress);
            await using var tar = new TarReader(decompressing);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    throw new BackupException($"This backup holds an entry of a kind CheeseCave never writes ('{entry.Name}', {entry.EntryType}). Nothing was restored.");
                }

                var content = entry.DataStream ?? Stream.Null; // an empty file has no data stream

                switch (entry.Name)
                {
                    case BackupManifest.EntryName:
                        manifest = await JsonSerializer.DeserializeAsync<BackupManifest>(content, BackupFiles.Json, cancellationToken).ConfigureAwait(false);
                        break;
                    case BackupManifest.SettingsEntryName:
                        await CopyAsync(content, Path.Combine(staging, BackupManifest.RestoredSettingsFileName), cancellationToken).ConfigureAwait(false);
                        break;
                    case BackupManifest.DatabaseEntryName:
                        await CopyAsync(content, Path.Combine(staging, Configuration.PortalPaths.DatabaseFileName), cancellationToken).ConfigureAwait(false);
                        database = true;
                        break;
                    default:
                        await CopyAsync(content, SafePath(staging, entry.Name), cancellationToken).ConfigureAwait(false);
                        break;
                }
            }

            // Read to the end: the final chunk must be there and nothing may follow it, whatever the archive readers left unread.
            await decrypting.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            // Authenticated but not a readable archive: only a file written by something else gets here.
            throw new BackupException("This backup decrypts but its contents are not a CheeseCave archive. Nothing was restored.", ex);
        }

        if (manifest is null || !database)
        {
            throw new BackupException("This backup has no manifest or no database. Nothing was restored; use a backup made by the portal's backup command.");
        }

        return manifest;
    }

    /// <summary>Only names under data/ that stay inside the folder: no rooted paths, no "..", no other prefixes.</summary>
    private static string SafePath(string staging, string name)
    {
        if (!name.StartsWith(BackupManifest.DataPrefix, StringComparison.Ordinal))
        {
            throw new BackupException($"This backup holds an entry CheeseCave never writes ('{name}'). Nothing was restored.");
        }

        var relative = name[BackupManifest.DataPrefix.Length..];
        var full = Path.GetFullPath(Path.Combine(staging, relative));
        if (Path.IsPathRooted(relative) || relative.Split('/').Contains("..") || !full.StartsWith(staging + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new BackupException($"This backup holds an entry that points outside the data folder ('{name}'). Nothing was restored.");
        }

        return full;
    }

    private static async Task CopyAsync(Stream data, string path, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder))
        {
            BackupFiles.CreateOwnerOnlyFolder(folder);
        }

        await using var file = BackupFiles.CreateOwnerOnlyFile(path);
        await data.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
    }

    private static void CheckDatabase(string databaseFile)
    {
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databaseFile, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        if (command.ExecuteScalar() as string != "ok")
        {
            throw new BackupException("The database in this backup fails SQLite's integrity check. Nothing was restored; use another backup.");
        }
    }

    private string? MoveIntoPlace(string staging, string target)
    {
        string? aside = null;
        if (Directory.Exists(target))
        {
            if (BackupFiles.IsMissingOrEmpty(target))
            {
                Directory.Delete(target);
            }
            else
            {
                aside = target + ".before-restore-" + time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
                Directory.Move(target, aside);
            }
        }

        Directory.Move(staging, target);
        return aside;
    }
}

internal sealed record RestoreResult(BackupManifest Manifest, string DataDirectory, string? MovedAside);
