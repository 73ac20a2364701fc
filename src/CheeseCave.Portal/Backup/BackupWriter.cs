using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using CheeseCave.Portal.Configuration;
using Microsoft.Data.Sqlite;

namespace CheeseCave.Portal.Backup;

/// <summary>
/// Writes one encrypted backup file: the database through SQLite's online backup API (a running portal keeps
/// working and the copy is consistent), every other file of the data folder (the key ring, the emulator's state and TLS
/// CA), the settings that matter and a manifest, as a compressed tar inside chunked AES-256-GCM.
/// </summary>
internal sealed class BackupWriter(TimeProvider time)
{
    /// <summary>Files that are the database itself (copied through the backup API instead) or half-written temporaries.</summary>
    private static readonly string[] SkippedSuffixes = ["-wal", "-shm", "-journal", ".encrypting", ".partial"];

    public async Task<BackupManifest> WriteAsync(string dataDirectory, string outputFile, string passphrase, int iterations, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var paths = new PortalPaths(dataDirectory);
        if (!File.Exists(paths.DatabaseFile))
        {
            throw new BackupException($"There is no portal database in {dataDirectory}. Point --data-directory (or CheeseCave:DataDirectory) at the data folder of the portal to back up.");
        }

        var work = BackupFiles.CreateOwnerOnlyTemporaryFolder(Path.GetTempPath(), "cheesecave-backup-");
        var partial = outputFile + ".partial";
        try
        {
            var snapshot = Path.Combine(work, PortalPaths.DatabaseFileName);
            SnapshotDatabase(paths.DatabaseFile, snapshot);
            var files = Directory.GetFiles(dataDirectory, "*", SearchOption.AllDirectories)
                .Where(f => !string.Equals(Path.GetFullPath(f), Path.GetFullPath(paths.DatabaseFile), StringComparison.Ordinal))
                .Where(f => !SkippedSuffixes.Any(s => f.EndsWith(s, StringComparison.Ordinal)))
                .Where(f => Path.GetRelativePath(dataDirectory, f) != BackupManifest.RestoredSettingsFileName) // a previous restore's; this backup records its own
                .Order(StringComparer.Ordinal)
                .ToList();
            var ring = KeyRingCensus.Count(snapshot, paths.KeysDirectory);
            var manifest = new BackupManifest(BackupHeader.CurrentVersion, time.GetUtcNow(), typeof(BackupWriter).Assembly.GetName().Version?.ToString() ?? "unknown",
                dataDirectory, ring.Keys, ring.Encrypted, ring.Location, files.Count);

            var header = BackupHeader.Create(iterations);
            var key = header.DeriveKeys(passphrase, out var checkKey);
            header.Seal(checkKey);
            await using (var output = BackupFiles.CreateOwnerOnlyFile(partial))
            {
                await output.WriteAsync(header.Bytes.ToArray(), cancellationToken).ConfigureAwait(false);
                using var encrypting = new EncryptingStream(output, key, header);
                await using (var compressing = new GZipStream(encrypting, CompressionLevel.Optimal, leaveOpen: true))
                await using (var tar = new TarWriter(compressing, TarEntryFormat.Pax, leaveOpen: true))
                {
                    await AddJsonAsync(tar, BackupManifest.EntryName, manifest, cancellationToken).ConfigureAwait(false);
                    await AddJsonAsync(tar, BackupManifest.SettingsEntryName, settings, cancellationToken).ConfigureAwait(false);
                    await tar.WriteEntryAsync(snapshot, BackupManifest.DatabaseEntryName, cancellationToken).ConfigureAwait(false);
                    foreach (var file in files)
                    {
                        var name = BackupManifest.DataPrefix + Path.GetRelativePath(dataDirectory, file).Replace('\\', '/');
                        await tar.WriteEntryAsync(file, name, cancellationToken).ConfigureAwait(false);
                    }
                }

                encrypting.Complete();
            }

            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(checkKey);
            File.Move(partial, outputFile, overwrite: true); // never a half-written file under the final name
            return manifest;
        }
        finally
        {
            File.Delete(partial);
            SqliteConnection.ClearAllPools();
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>SQLite's online backup: pages are copied under SQLite's own locking, so writers may keep writing.</summary>
    private static void SnapshotDatabase(string databaseFile, string snapshot)
    {
        using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databaseFile, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        using var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = snapshot, Pooling = false }.ToString());
        source.Open();
        target.Open();
        source.BackupDatabase(target);
    }

    private static async Task AddJsonAsync<T>(TarWriter tar, string name, T value, CancellationToken cancellationToken)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(value, BackupFiles.Json)),
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        await tar.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
    }
}
