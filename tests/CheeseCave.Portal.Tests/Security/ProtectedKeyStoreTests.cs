using System.Security.Cryptography;
using CheeseCave.Pki;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Security;

/// <summary>CA private keys in the database, encrypted with a Data Protection key ring (no web host needed).</summary>
public sealed class ProtectedKeyStoreTests : IAsyncLifetime
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cheesecave-keystore-");
    private ServiceProvider _services = null!;

    private string DatabaseFile => Path.Combine(_folder.FullName, PortalDbContext.FileName);

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection()
            .AddDbContextFactory<PortalDbContext>(o => o.UseSqlite(PortalDbContext.ConnectionStringFor(_folder.FullName)))
            .BuildServiceProvider();
        await using var db = await Contexts.CreateDbContextAsync();
        await db.Database.MigrateAsync();
    }

    private IDbContextFactory<PortalDbContext> Contexts => _services.GetRequiredService<IDbContextFactory<PortalDbContext>>();

    private IDataProtectionProvider KeyRing(string name) =>
        DataProtectionProvider.Create(new DirectoryInfo(Path.Combine(_folder.FullName, name)), b => b.SetApplicationName("CheeseCave"));

    private ProtectedKeyStore Store(string keyRing = "keys", string actor = "carol") =>
        new(Contexts, KeyRing(keyRing), new FixedActor(new Actor("id-" + actor, actor)), TimeProvider.System);

    [Fact]
    public async Task A_stored_key_signs_like_the_original_and_is_attributed()
    {
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        await Store().SaveAsync("root-ca", key);

        Assert.True(await Store().ExistsAsync("root-ca"));
        Assert.False(await Store().ExistsAsync("other"));
        using var reopened = await Store().OpenAsync("root-ca");
        Assert.Equal(key.PublicKey.ExportSubjectPublicKeyInfo(), reopened.PublicKey.ExportSubjectPublicKeyInfo());

        // It signs, and the original public key verifies the signature (X.509 signatures are DER-encoded for ECDSA).
        var data = "verification code"u8.ToArray();
        var signature = reopened.CreateSignatureGenerator().SignData(data, HashAlgorithmName.SHA256);
        using var publicKey = key.PublicKey.GetECDsaPublicKey()!;
        Assert.True(publicKey.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

        await using var db = await Contexts.CreateDbContextAsync();
        var stored = await db.ProtectedKeys.SingleAsync();
        Assert.Equal("carol", stored.CreatedBy);
        Assert.InRange(stored.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        var audit = await db.AuditEntries.SingleAsync();
        Assert.Equal((AuditActions.KeyStored, "root-ca", "carol", "id-carol"), (audit.Action, audit.Target, audit.Actor, audit.ActorId));
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP384)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public async Task Rsa_and_other_curves_round_trip(KeyAlgorithm algorithm)
    {
        using var key = PrivateKey.Generate(algorithm);
        await Store().SaveAsync("k", key);
        using var reopened = await Store().OpenAsync("k");
        Assert.Equal(algorithm, reopened.Algorithm);
    }

    [Fact]
    public async Task The_bytes_at_rest_are_not_the_pkcs8_key()
    {
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var pkcs8 = key.ExportPkcs8ForProtectedStore();
        await Store().SaveAsync("root-ca", key);

        await using (var db = await Contexts.CreateDbContextAsync())
        {
            var stored = await db.ProtectedKeys.SingleAsync();
            Assert.NotEqual(pkcs8, stored.ProtectedBytes);
            Assert.False(Contains(stored.ProtectedBytes, pkcs8));

            // Not even the private scalar, which sits inside the PKCS#8, appears.
            using var ec = ECDsa.Create();
            ec.ImportPkcs8PrivateKey(pkcs8, out _);
            var d = ec.ExportParameters(includePrivateParameters: true).D!;
            Assert.False(Contains(stored.ProtectedBytes, d));
        }

        SqliteConnection.ClearAllPools();
        var file = await File.ReadAllBytesAsync(DatabaseFile);
        var wal = File.Exists(DatabaseFile + "-wal") ? await File.ReadAllBytesAsync(DatabaseFile + "-wal") : [];
        Assert.False(Contains(file, pkcs8) || Contains(wal, pkcs8), "the PKCS#8 key is in the database file");
    }

    [Fact]
    public async Task Another_key_ring_cannot_read_the_key()
    {
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        await Store("keys").SaveAsync("root-ca", key);

        var error = await Assert.ThrowsAsync<PkiException>(() => Store("other-keys").OpenAsync("root-ca"));
        Assert.Equal(PkiErrorCode.UnreadableKey, error.Code);
        Assert.IsAssignableFrom<CryptographicException>(error.InnerException);
    }

    [Fact]
    public async Task A_protected_row_copied_under_another_key_id_does_not_decrypt()
    {
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        await Store().SaveAsync("root-ca", key);
        await using (var db = await Contexts.CreateDbContextAsync())
        {
            var stored = await db.ProtectedKeys.AsNoTracking().SingleAsync();
            db.ProtectedKeys.Add(new ProtectedKey { KeyId = "copy", ProtectedBytes = stored.ProtectedBytes, CreatedAt = stored.CreatedAt, CreatedBy = "mallory" });
            await db.SaveChangesAsync();
        }

        Assert.Equal(PkiErrorCode.UnreadableKey, (await Assert.ThrowsAsync<PkiException>(() => Store().OpenAsync("copy"))).Code);
    }

    [Fact]
    public async Task A_key_id_is_never_overwritten()
    {
        using var first = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        using var second = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        await Store().SaveAsync("root-ca", first);

        var error = await Assert.ThrowsAsync<PkiException>(() => Store().SaveAsync("root-ca", second));
        Assert.Equal(PkiErrorCode.InvalidInput, error.Code);
        using var reopened = await Store().OpenAsync("root-ca");
        Assert.Equal(first.PublicKey.ExportSubjectPublicKeyInfo(), reopened.PublicKey.ExportSubjectPublicKeyInfo());

        // Neither the context nor the database lets a stored row change.
        await using var db = await Contexts.CreateDbContextAsync();
        var stored = await db.ProtectedKeys.SingleAsync();
        stored.ProtectedBytes = [1, 2, 3];
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        await Assert.ThrowsAsync<SqliteException>(() => db.Database.ExecuteSqlRawAsync("UPDATE ProtectedKeys SET CreatedBy = 'mallory'"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public async Task Empty_key_ids_are_refused(string keyId)
    {
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        Assert.Equal(PkiErrorCode.InvalidInput, (await Assert.ThrowsAsync<PkiException>(() => Store().SaveAsync(keyId, key))).Code);
    }

    [Fact]
    public async Task A_missing_key_is_a_clear_error()
    {
        Assert.Equal(PkiErrorCode.UnreadableKey, (await Assert.ThrowsAsync<PkiException>(() => Store().OpenAsync("nope"))).Code);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private sealed class FixedActor(Actor actor) : ICurrentActor
    {
        public Task<Actor> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(actor);
    }
}
