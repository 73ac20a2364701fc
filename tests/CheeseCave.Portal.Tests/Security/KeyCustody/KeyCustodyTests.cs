using System.Net;
using System.Text.Json;
using CheeseCave.Pki;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Tests.Hosting.Logging;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CheeseCave.Portal.Tests.Security.KeyCustody;

/// <summary>
/// The key ring in custody: in the database, encrypted with a certificate, so a copy of the data folder and the
/// database is not enough to read a CA key; several instances refuse a ring they do not share; an unprotected ring
/// outside Development is said once in the log and in /health/ready.
/// </summary>
public sealed class KeyCustodyTests
{
    [Fact]
    public async Task With_a_key_ring_certificate_a_copy_of_the_data_folder_and_database_alone_cannot_decrypt_a_ca_key()
    {
        using var certificates = new KeyRingCertificates();
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        await using var portal = new PortalFactory();
        await using (var custody = WithSettings(portal, certificates.Settings))
        {
            await StoreKeyAsync(custody.Services, "root-ca", key);
        }

        {
            await using var copy = await CopiedDataAsync(portal.DataDirectory);

            // The table holds the key ring, each secret encrypted: no clear master key in any row, no key files.
            var rows = await copy.KeyRingXmlAsync();
            Assert.NotEmpty(rows);
            Assert.All(rows, xml => Assert.Contains("encryptedSecret", xml, StringComparison.Ordinal));
            Assert.All(rows, xml => Assert.DoesNotContain("masterKey", xml, StringComparison.Ordinal));
            Assert.Empty(Directory.Exists(copy.KeysDirectory) ? Directory.GetFiles(copy.KeysDirectory) : []);

            var refused = await Assert.ThrowsAsync<PkiException>(() => copy.OpenAsync("root-ca", certificate: null));
            Assert.Equal(PkiErrorCode.UnreadableKey, refused.Code);

            using var opened = await copy.OpenAsync("root-ca", certificates.Certificate);
            Assert.Equal(key.PublicKey.ExportSubjectPublicKeyInfo(), opened.PublicKey.ExportSubjectPublicKeyInfo());
        }
    }

    [Fact]
    public async Task With_the_ring_kept_in_files_a_certificate_still_keeps_a_copy_of_the_data_folder_from_decrypting_a_ca_key()
    {
        using var certificates = new KeyRingCertificates();
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        await using var portal = new PortalFactory();
        await using (var custody = WithSettings(portal, [.. certificates.Settings.Where(s => s.Key != "CheeseCave:KeyRing:Store"), new("CheeseCave:KeyRing:Store", "FileSystem")]))
        {
            await StoreKeyAsync(custody.Services, "file-root", key);
        }

        await using var copy = await CopiedDataAsync(portal.DataDirectory);
        var files = Directory.GetFiles(copy.KeysDirectory, "*.xml");
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.DoesNotContain("masterKey", File.ReadAllText(f), StringComparison.Ordinal));
        await Assert.ThrowsAsync<PkiException>(() => copy.OpenAsync("file-root", certificate: null));
        using var opened = await copy.OpenAsync("file-root", certificates.Certificate);
        Assert.Equal(key.PublicKey.ExportSubjectPublicKeyInfo(), opened.PublicKey.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task A_file_key_ring_from_before_moves_into_the_database_and_is_encrypted_when_a_certificate_is_configured()
    {
        using var certificates = new KeyRingCertificates();
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var data = Path.Combine(Path.GetTempPath(), "cheesecave-keyring-upgrade-" + Guid.NewGuid().ToString("N"));
        await using (var before = new PortalFactory { DataDirectory = data, KeepData = true })
        {
            await StoreKeyAsync(before.Services, "old-root", key);
        }

        var keyFiles = Directory.GetFiles(Path.Combine(data, "keys"), "*.xml");
        Assert.NotEmpty(keyFiles);
        Assert.Contains("masterKey", await File.ReadAllTextAsync(keyFiles[0]), StringComparison.Ordinal); // in clear until now

        await using var after = new PortalFactory { DataDirectory = data };
        using var custody = WithSettings(after, certificates.Settings);
        using (var reopened = await OpenAsync(custody.Services, "old-root"))
        {
            Assert.Equal(key.PublicKey.ExportSubjectPublicKeyInfo(), reopened.PublicKey.ExportSubjectPublicKeyInfo());
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(data, "keys"), "*.xml"));
        await using var copy = await CopiedDataAsync(data);
        Assert.All(await copy.KeyRingXmlAsync(), xml => Assert.DoesNotContain("masterKey", xml, StringComparison.Ordinal));
        await Assert.ThrowsAsync<PkiException>(() => copy.OpenAsync("old-root", certificate: null));
        using var withCertificate = await copy.OpenAsync("old-root", certificates.Certificate);
    }

    [Fact]
    public void Several_instances_refuse_to_start_on_a_key_ring_kept_in_files()
    {
        using var portal = new PortalFactory();
        using var broken = WithSettings(portal, [new("CheeseCave:Cluster:Instances", "2"), new("CheeseCave:KeyRing:Store", "FileSystem")]);

        var thrown = Record.Exception(() => broken.Services);

        Assert.NotNull(thrown);
        Assert.Contains("CheeseCave:Cluster:Instances is 2, but the key ring is kept in this instance's data folder", thrown.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, null, "FileSystem")]
    [InlineData(2, null, "Database")]
    [InlineData(1, "PostgreSQL", "Database")]
    public void Without_a_store_setting_the_ring_goes_where_every_instance_reads_it(int instances, string? provider, string expected) =>
        Assert.Equal(expected, Portal.Hosting.KeyCustodyRegistration.ResolveStore(Portal.Security.KeyCustody.KeyRingStore.Auto, instances, provider).ToString());

    [Fact]
    public async Task Outside_development_an_unprotected_key_ring_is_one_start_up_warning_and_a_degraded_readiness_detail()
    {
        var logs = new CapturingLoggerProvider();
        await using var portal = new PortalFactory();
        using var production = WithSettings(portal, [], logs, "Production");
        using var client = production.CreateClient();

        var check = await DataProtectionCheckAsync(client);
        Assert.Equal("Degraded", check.GetProperty("status").GetString());
        Assert.Contains("not encrypted at rest", check.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Single(logs.Texts, t => t.Contains("KeyRingStartup: ", StringComparison.Ordinal) && t.Contains("is NOT encrypted at rest", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Outside_development_a_certificate_protected_key_ring_is_healthy_and_not_warned_about()
    {
        using var certificates = new KeyRingCertificates();
        var logs = new CapturingLoggerProvider();
        await using var portal = new PortalFactory();
        using var protectedRing = WithSettings(portal, certificates.Settings, logs, "Production");
        using var client = protectedRing.CreateClient();

        var check = await DataProtectionCheckAsync(client);
        Assert.Equal("Healthy", check.GetProperty("status").GetString());
        Assert.DoesNotContain(logs.Texts, t => t.Contains("NOT encrypted at rest", StringComparison.Ordinal));
    }

    private static WebApplicationFactory<Program> WithSettings(WebApplicationFactory<Program> portal, IEnumerable<KeyValuePair<string, string>> settings, ILoggerProvider? logs = null, string? environment = null) =>
        portal.WithWebHostBuilder(b =>
        {
            if (environment is not null)
            {
                b.UseEnvironment(environment);
            }

            foreach (var (name, value) in settings)
            {
                b.UseSetting(name, value);
            }

            if (logs is not null)
            {
                b.ConfigureLogging(l => l.AddProvider(logs));
            }
        });

    private static async Task<JsonElement> DataProtectionCheckAsync(HttpClient client)
    {
        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("checks").GetProperty("dataProtection").Clone();
    }

    private static async Task StoreKeyAsync(IServiceProvider portal, string keyId, PrivateKey key) =>
        await Store(portal.GetRequiredService<IDbContextFactory<PortalDbContext>>(), portal.GetRequiredService<IDataProtectionProvider>()).SaveAsync(keyId, key);

    private static Task<ISigningKey> OpenAsync(IServiceProvider portal, string keyId) =>
        Store(portal.GetRequiredService<IDbContextFactory<PortalDbContext>>(), portal.GetRequiredService<IDataProtectionProvider>()).OpenAsync(keyId);

    private static ProtectedKeyStore Store(IDbContextFactory<PortalDbContext> contexts, IDataProtectionProvider provider) =>
        new(contexts, provider, new FixedActor(), TimeProvider.System);

    /// <summary>What a thief has: a copy of the data folder (database and all), opened by a fresh Data Protection setup.</summary>
    private static async Task<CopiedData> CopiedDataAsync(string dataDirectory)
    {
        SqliteConnection.ClearAllPools();
        var copy = Directory.CreateTempSubdirectory("cheesecave-stolen-copy-").FullName;
        foreach (var file in Directory.GetFiles(dataDirectory, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(dataDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        await Task.CompletedTask;
        return new CopiedData(copy);
    }

    private sealed class CopiedData(string folder) : IAsyncDisposable
    {
        public string KeysDirectory => Path.Combine(folder, "keys");

        public async Task<IReadOnlyList<string>> KeyRingXmlAsync()
        {
            await using var services = Services(certificate: null);
            await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
            return await db.DataProtectionKeys.Select(k => k.Xml ?? "").ToListAsync();
        }

        public async Task<ISigningKey> OpenAsync(string keyId, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
        {
            await using var services = Services(certificate);
            return await Store(services.GetRequiredService<IDbContextFactory<PortalDbContext>>(), services.GetRequiredService<IDataProtectionProvider>()).OpenAsync(keyId);
        }

        private ServiceProvider Services(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
        {
            var services = new ServiceCollection().AddLogging();
            services.AddDbContextFactory<PortalDbContext>(o => o.UseSqlite(PortalDbContext.ConnectionStringFor(folder)));
            var dataProtection = services.AddDataProtection().SetApplicationName("CheeseCave");
            _ = Directory.Exists(KeysDirectory) && Directory.GetFiles(KeysDirectory, "*.xml").Length > 0
                ? dataProtection.PersistKeysToFileSystem(new DirectoryInfo(KeysDirectory))
                : dataProtection.PersistKeysToDbContext<PortalDbContext>();
            if (certificate is not null)
            {
                dataProtection.UnprotectKeysWithAnyCertificate(certificate);
            }

            return services.BuildServiceProvider();
        }

        public async ValueTask DisposeAsync()
        {
            SqliteConnection.ClearAllPools();
            await TestFolders.DeleteAsync(folder);
        }
    }

    private sealed class FixedActor : ICurrentActor
    {
        public Task<Actor> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(new Actor("id-test", "key-custody-test"));
    }
}
