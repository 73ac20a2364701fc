using System.Security.Cryptography;
using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Security;

/// <summary>
/// CA private keys in the portal database (<c>ProtectedKeys</c>), encrypted with ASP.NET Core Data Protection
/// under the persisted key ring in <c>{DataDirectory}/keys</c>. The ciphertext is bound to its key id (a row copied
/// under another id does not decrypt), a key id is never reused, and plaintext PKCS#8 is wiped after use.
/// Keys leave this class only as an <see cref="ISigningKey"/> for signing on the server; no page ever sees one.
/// </summary>
public sealed class ProtectedKeyStore(
    IDbContextFactory<PortalDbContext> contexts,
    IDataProtectionProvider dataProtection,
    ICurrentActor currentActor,
    TimeProvider time) : IKeyStore
{
    /// <summary>The Data Protection purpose; changing it makes every stored key unreadable.</summary>
    public const string Purpose = "CheeseCave.Portal.ProtectedKeyStore.v1";

    private readonly IDataProtector _protector = dataProtection.CreateProtector(Purpose);

    public async Task SaveAsync(string keyId, PrivateKey key, CancellationToken cancellationToken = default)
    {
        ValidateKeyId(keyId);
        ArgumentNullException.ThrowIfNull(key);

        var actor = await currentActor.GetAsync(cancellationToken).ConfigureAwait(false);
        var pkcs8 = key.ExportPkcs8ForProtectedStore();
        byte[] protectedBytes;
        try
        {
            protectedBytes = ProtectorFor(keyId).Protect(pkcs8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        if (await db.ProtectedKeys.AnyAsync(k => k.KeyId == keyId, cancellationToken).ConfigureAwait(false))
        {
            throw AlreadyExists(keyId);
        }

        var now = time.GetUtcNow();
        db.ProtectedKeys.Add(new ProtectedKey { KeyId = keyId, ProtectedBytes = protectedBytes, CreatedAt = now, CreatedBy = actor.Name });
        db.AuditEntries.Add(actor.Audit(now, AuditActions.KeyStored, keyId, AuditOutcomes.Succeeded));
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException ex)
        {
            // Another request stored the same id between the check and the insert: the primary key refuses it.
            throw AlreadyExists(keyId, ex);
        }
    }

    public async Task<ISigningKey> OpenAsync(string keyId, CancellationToken cancellationToken = default)
    {
        ValidateKeyId(keyId);

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var stored = await db.ProtectedKeys.AsNoTracking().SingleOrDefaultAsync(k => k.KeyId == keyId, cancellationToken).ConfigureAwait(false)
            ?? throw new PkiException(PkiErrorCode.UnreadableKey, $"There is no stored key named '{keyId}'.");

        byte[] pkcs8;
        try
        {
            pkcs8 = ProtectorFor(keyId).Unprotect(stored.ProtectedBytes);
        }
        catch (CryptographicException ex)
        {
            throw new PkiException(PkiErrorCode.UnreadableKey,
                $"The stored key '{keyId}' cannot be decrypted: the Data Protection key ring in the data folder's keys/ is missing or is not the one that encrypted it.", ex);
        }

        try
        {
            return PrivateKey.ImportPkcs8(pkcs8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    public async Task<bool> ExistsAsync(string keyId, CancellationToken cancellationToken = default)
    {
        ValidateKeyId(keyId);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.ProtectedKeys.AnyAsync(k => k.KeyId == keyId, cancellationToken).ConfigureAwait(false);
    }

    private IDataProtector ProtectorFor(string keyId) => _protector.CreateProtector(keyId);

    private static void ValidateKeyId(string keyId)
    {
        if (string.IsNullOrWhiteSpace(keyId) || keyId.Length > 200)
        {
            throw new PkiException(PkiErrorCode.InvalidInput, "A key id must be 1 to 200 characters long.");
        }
    }

    private static PkiException AlreadyExists(string keyId, Exception? inner = null) =>
        new(PkiErrorCode.InvalidInput, $"A key named '{keyId}' already exists; it is never overwritten.", inner);
}
