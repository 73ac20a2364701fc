using System.Globalization;
using CheeseCave.Portal.Configuration;

namespace CheeseCave.Portal.Backup;

/// <summary>
/// <c>CheeseCave.Portal backup --out FILE --passphrase-file FILE</c> and
/// <c>CheeseCave.Portal restore --from FILE --passphrase-file FILE [--force]</c> (docs/backup.md). Both find the data
/// folder as the portal does (appsettings.json, the environment, <c>--CheeseCave:DataDirectory=…</c>) unless
/// <c>--data-directory</c> names it; neither starts the web host.
/// </summary>
public static class BackupCommand
{
    public const string BackupVerb = "backup";
    public const string RestoreVerb = "restore";
    private const int Refused = 1;
    private const int Usage = 2;

    private const string UsageText = """
        usage: CheeseCave.Portal backup  --out FILE  --passphrase-file FILE [--iterations N] [--data-directory DIR]
               CheeseCave.Portal restore --from FILE --passphrase-file FILE [--force] [--data-directory DIR]
        (see docs/backup.md)
        """;

    public static bool IsRequested(string[] args) => args is [BackupVerb or RestoreVerb, ..];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        time ??= TimeProvider.System;
        if (!BackupArguments.TryParse(args, out var parsed, out var problem))
        {
            await output.WriteLineAsync($"{args.FirstOrDefault()}: {problem}{Environment.NewLine}{UsageText}").ConfigureAwait(false);
            return Usage;
        }

        try
        {
            var configuration = PortalConfigurationView.Load(parsed.ConfigurationArgs);
            if (string.Equals(configuration["CheeseCave:Database:Provider"], "PostgreSQL", StringComparison.OrdinalIgnoreCase))
            {
                throw new BackupException("The portal's database is PostgreSQL: back it up with pg_dump (the key ring is in it), as docs/backup.md describes; this command backs up the SQLite data folder.");
            }

            var dataDirectory = parsed.DataDirectory is { } explicitFolder
                ? Path.GetFullPath(explicitFolder)
                : (configuration.Settings.Get<CheeseCaveOptions>() ?? new CheeseCaveOptions()).ResolveDataDirectory(configuration.ContentRoot);
            var passphrase = await ReadPassphraseAsync(parsed.PassphraseFile, cancellationToken).ConfigureAwait(false);
            return parsed.Verb == BackupVerb
                ? await BackupAsync(parsed, configuration, dataDirectory, passphrase, output, time, cancellationToken).ConfigureAwait(false)
                : await RestoreAsync(parsed, dataDirectory, passphrase, output, time, cancellationToken).ConfigureAwait(false);
        }
        catch (BackupException ex)
        {
            await output.WriteLineAsync($"{parsed.Verb}: {ex.Message}").ConfigureAwait(false);
            return Refused;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await output.WriteLineAsync($"{parsed.Verb}: {ex.Message} Nothing was restored or overwritten; check the paths and their permissions.").ConfigureAwait(false);
            return Refused;
        }
    }

    private static async Task<int> BackupAsync(BackupArguments parsed, PortalConfigurationView configuration, string dataDirectory, string passphrase, TextWriter output, TimeProvider time, CancellationToken cancellationToken)
    {
        if (passphrase.Length < 12)
        {
            throw new BackupException("The passphrase is shorter than 12 characters. Use a longer one (e.g. `openssl rand -base64 24 > backup.pass`).");
        }

        var outFile = Path.GetFullPath(parsed.File);
        if (outFile.StartsWith(dataDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new BackupException("The backup file would lie inside the data folder it backs up. Write it elsewhere (another disk or machine is best).");
        }

        var manifest = await new BackupWriter(time).WriteAsync(dataDirectory, outFile, passphrase, parsed.Iterations, configuration.SettingsThatMatter(), cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"backup: wrote {outFile} ({new FileInfo(outFile).Length:N0} bytes): the database, {manifest.Files} other file(s) of {dataDirectory}, {manifest.KeyRingKeys} key-ring key(s) ({manifest.KeyRingKeysEncrypted} encrypted with the key-ring certificate).")).ConfigureAwait(false);
        await output.WriteLineAsync(manifest.KeyRingKeysEncrypted > 0
            ? "backup: restoring needs the passphrase AND the key-ring certificate (CheeseCave:KeyRing:Certificate), which is not in the backup. Keep both apart from the file."
            : "backup: the key ring is not encrypted with a certificate, so the passphrase alone opens everything. Keep it apart from the file.").ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> RestoreAsync(BackupArguments parsed, string dataDirectory, string passphrase, TextWriter output, TimeProvider time, CancellationToken cancellationToken)
    {
        var result = await new BackupRestorer(time).RestoreAsync(Path.GetFullPath(parsed.File), passphrase, dataDirectory, parsed.Force, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"restore: restored the backup of {result.Manifest.CreatedAt:yyyy-MM-dd HH:mm} UTC ({result.Manifest.SourceDataDirectory}) into {result.DataDirectory}.")).ConfigureAwait(false);
        if (result.MovedAside is { } aside)
        {
            await output.WriteLineAsync($"restore: the folder's previous contents are in {aside}.").ConfigureAwait(false);
        }

        await output.WriteLineAsync($"restore: the settings recorded at backup time are in {Path.Combine(result.DataDirectory, BackupManifest.RestoredSettingsFileName)}; the portal does not read that file, copy what you need into appsettings.json or the environment.").ConfigureAwait(false);
        if (result.Manifest.KeyRingKeysEncrypted > 0)
        {
            await output.WriteLineAsync("restore: the key ring is encrypted with a certificate: configure the same CheeseCave:KeyRing:Certificate before starting the portal.").ConfigureAwait(false);
        }

        return 0;
    }

    private static async Task<string> ReadPassphraseAsync(string file, CancellationToken cancellationToken)
    {
        if (!File.Exists(file))
        {
            throw new BackupException($"There is no passphrase file at {file}.");
        }

        // A file written by `echo` or an editor ends with a line break that is no part of the passphrase.
        var passphrase = (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).TrimEnd('\r', '\n');
        return passphrase.Length > 0 ? passphrase : throw new BackupException($"The passphrase file {file} is empty.");
    }
}
