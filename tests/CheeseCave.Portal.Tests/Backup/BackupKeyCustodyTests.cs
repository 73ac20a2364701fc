using CheeseCave.Pki;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Security.KeyCustody;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Backup;

/// <summary>A backup of a certificate-protected key ring carries the ring but not the certificate: restoring needs both.</summary>
public sealed class BackupKeyCustodyTests : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("cheesecave-backup-custody-");

    [Fact]
    public async Task A_restored_certificate_protected_ring_opens_the_ca_key_only_with_the_certificate()
    {
        using var certificates = new KeyRingCertificates();
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var backup = Path.Combine(_work.FullName, "custody.ccbackup");
        var passphrase = BackupRun.PassphraseFile(_work.FullName, "custody backup passphrase");
        await using (var portal = new PortalFactory())
        {
            await using var protectedRing = portal.WithWebHostBuilder(b =>
            {
                foreach (var (name, value) in certificates.Settings) b.UseSetting(name, value);
            });
            await Store(protectedRing.Services).SaveAsync("custody-root", key);
            var made = await BackupRun.RunAsync("backup", "--out", backup, "--passphrase-file", passphrase, "--data-directory", portal.DataDirectory, "--iterations", "100000");
            Assert.True(made.ExitCode == 0, made.Output);
            Assert.Contains("restoring needs the passphrase AND the key-ring certificate", made.Output, StringComparison.Ordinal);
        }

        Assert.True(new FileInfo(backup).Length > 0);
        Assert.True((await File.ReadAllBytesAsync(backup)).AsSpan().IndexOf(certificates.Certificate.RawData) < 0);

        var restoredFolder = Path.Combine(_work.FullName, "restored");
        var restored = await BackupRun.RunAsync("restore", "--from", backup, "--passphrase-file", passphrase, "--data-directory", restoredFolder);
        Assert.True(restored.ExitCode == 0, restored.Output);
        Assert.Contains("configure the same CheeseCave:KeyRing:Certificate", restored.Output, StringComparison.Ordinal);

        await Assert.ThrowsAsync<PkiException>(() => OpenRestoredAsync(restoredFolder, certificate: null));
        using var opened = await OpenRestoredAsync(restoredFolder, certificates.Certificate);
        Assert.Equal(key.PublicKey.ExportSubjectPublicKeyInfo(), opened.PublicKey.ExportSubjectPublicKeyInfo());
    }

    private static ProtectedKeyStore Store(IServiceProvider services) =>
        new(services.GetRequiredService<IDbContextFactory<PortalDbContext>>(), services.GetRequiredService<IDataProtectionProvider>(), new FixedActor(), TimeProvider.System);

    private static async Task<ISigningKey> OpenRestoredAsync(string folder, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddDbContextFactory<PortalDbContext>(o => o.UseSqlite(PortalDbContext.ConnectionStringFor(folder)));
        var dataProtection = services.AddDataProtection().SetApplicationName("CheeseCave").PersistKeysToDbContext<PortalDbContext>();
        if (certificate is not null) dataProtection.UnprotectKeysWithAnyCertificate(certificate);
        await using var provider = services.BuildServiceProvider();
        return await Store(provider).OpenAsync("custody-root");
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _work.Delete(recursive: true);
    }

    private sealed class FixedActor : ICurrentActor
    {
        public Task<Actor> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(new Actor("id-backup", "backup-test"));
    }
}
