using System.Xml.Linq;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Security.KeyCustody;

/// <summary>
/// Runs after the database migration and before Data Protection loads its ring: moves a file ring into the database
/// (when the store is the database), encrypts any key secret still stored in clear when a certificate is configured,
/// and says once, loudly, when the ring is not encrypted at rest outside Development.
/// </summary>
public sealed partial class KeyRingStartup(
    IDbContextFactory<PortalDbContext> contexts,
    PortalPaths paths,
    KeyCustodyStatus status,
    IOptions<KeyManagementOptions> keyManagement,
    ILogger<KeyRingStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var encryptor = keyManagement.Value.XmlEncryptor;
        if (status.Store == KeyRingStore.Database)
        {
            await ImportFileKeysAsync(cancellationToken).ConfigureAwait(false);
            if (encryptor is not null)
            {
                await EncryptDatabaseKeysAsync(encryptor, cancellationToken).ConfigureAwait(false);
            }
        }
        else if (encryptor is not null)
        {
            await EncryptFileKeysAsync(encryptor, cancellationToken).ConfigureAwait(false);
        }

        if (status.Unprotected)
        {
            LogUnprotected(logger, status.Describe());
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Keys of a file ring (an installation from before, or one switched to the database) go into the table once; the files go after.</summary>
    private async Task ImportFileKeysAsync(CancellationToken cancellationToken)
    {
        var files = Directory.Exists(paths.KeysDirectory) ? Directory.GetFiles(paths.KeysDirectory, "*.xml") : [];
        if (files.Length == 0)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var known = (await db.DataProtectionKeys.Select(k => k.FriendlyName).ToListAsync(cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (!known.Contains(name))
            {
                var xml = XElement.Parse(await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false));
                db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = name, Xml = xml.ToString(SaveOptions.DisableFormatting) });
            }
        }

        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);

        // Only once every key is in the database: a copy left in the folder would be a second, possibly clear, ring.
        foreach (var file in files)
        {
            File.Delete(file);
        }

        LogImported(logger, files.Length, paths.KeysDirectory);
    }

    private async Task EncryptDatabaseKeysAsync(IXmlEncryptor encryptor, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var count = 0;
        foreach (var key in await db.DataProtectionKeys.ToListAsync(cancellationToken).ConfigureAwait(false))
        {
            var xml = XElement.Parse(key.Xml ?? "<key />");
            if (KeyRingSecretEncryption.HasClearSecret(xml))
            {
                key.Xml = KeyRingSecretEncryption.Encrypt(xml, encryptor).ToString(SaveOptions.DisableFormatting);
                count++;
            }
        }

        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        if (count > 0)
        {
            LogEncrypted(logger, count);
        }
    }

    private async Task EncryptFileKeysAsync(IXmlEncryptor encryptor, CancellationToken cancellationToken)
    {
        var count = 0;
        foreach (var file in Directory.Exists(paths.KeysDirectory) ? Directory.GetFiles(paths.KeysDirectory, "*.xml") : [])
        {
            var xml = XElement.Parse(await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false));
            if (KeyRingSecretEncryption.HasClearSecret(xml))
            {
                // Written beside and moved over, so a crash leaves the old file or the new one, never half of one.
                var temporary = file + ".encrypting";
                await File.WriteAllTextAsync(temporary, KeyRingSecretEncryption.Encrypt(xml, encryptor).ToString(), cancellationToken).ConfigureAwait(false);
                File.Move(temporary, file, overwrite: true);
                count++;
            }
        }

        if (count > 0)
        {
            LogEncrypted(logger, count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Data Protection key ring ({Where}) is NOT encrypted at rest: whoever copies it with the database can decrypt every CA private key. Configure CheeseCave:KeyRing:Certificate (docs/security.md, 'Keys in custody').")]
    private static partial void LogUnprotected(ILogger logger, string where);

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved {Count} Data Protection key(s) from {Folder} into the database.")]
    private static partial void LogImported(ILogger logger, int count, string folder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Encrypted {Count} Data Protection key(s) that were stored in clear with the key-ring certificate.")]
    private static partial void LogEncrypted(ILogger logger, int count);
}
