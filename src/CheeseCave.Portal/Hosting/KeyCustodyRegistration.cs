using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security.KeyCustody;
using Microsoft.AspNetCore.DataProtection;

namespace CheeseCave.Portal.Hosting;

/// <summary>
/// The Data Protection key ring: where it lies (<c>CheeseCave:KeyRing:Store</c>), what encrypts it at rest
/// (<c>CheeseCave:KeyRing:Certificate</c>), and the refusal to run several instances on a ring they do not share.
/// CA private keys, device keys and sign-in cookies are encrypted with this ring (docs/security.md, "Keys in custody").
/// </summary>
public static class KeyCustodyRegistration
{
    public const string ApplicationName = "CheeseCave";

    public static WebApplicationBuilder AddKeyCustody(this WebApplicationBuilder builder, PortalPaths paths)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(paths);

        var options = builder.Configuration.GetSection(KeyRingOptions.SectionName).Get<KeyRingOptions>() ?? new KeyRingOptions();
        var instances = builder.Configuration.GetValue(KeyRingOptions.InstancesKey, 1);
        var store = ResolveStore(options.Store, instances, builder.Configuration["CheeseCave:Database:Provider"]);
        if (instances > 1 && store != KeyRingStore.Database)
        {
            throw new InvalidOperationException(
                $"The portal will not start: {KeyRingOptions.InstancesKey} is {instances}, but the key ring is kept in this instance's data folder, so the instances could not read each other's cookies or CA keys. Set CheeseCave:KeyRing:Store to Database (or remove the FileSystem setting).");
        }

        var services = builder.Services;
        services.AddSingleton(new KeyCustodyStatus(store, options.Certificate.IsConfigured, !builder.Environment.IsDevelopment()));

        // Hosted services start in registration order, and Data Protection loads its ring in its own hosted service:
        // the migration (which creates the key table) and the import must come first. Registering the initializer
        // here is idempotent (AddHostedService adds a type once), it only moves it ahead.
        services.AddHostedService<PortalDatabaseInitializer>();
        services.AddHostedService<KeyRingStartup>();

        var dataProtection = services.AddDataProtection().SetApplicationName(ApplicationName);
        if (store == KeyRingStore.Database)
        {
            dataProtection.PersistKeysToDbContext<PortalDbContext>();
        }
        else
        {
            dataProtection.PersistKeysToFileSystem(paths.EnsureKeysDirectory());
        }

        if (options.Certificate.IsConfigured)
        {
            // Also registers the certificate for decryption, so keys written under it are read back with it.
            dataProtection.ProtectKeysWithCertificate(KeyRingCertificate.Load(options.Certificate));
        }

        return builder;
    }

    public static KeyRingStore ResolveStore(KeyRingStore configured, int instances, string? databaseProvider) => configured switch
    {
        KeyRingStore.Auto when instances > 1 || string.Equals(databaseProvider, "PostgreSQL", StringComparison.OrdinalIgnoreCase) => KeyRingStore.Database,
        KeyRingStore.Auto => KeyRingStore.FileSystem,
        _ => configured,
    };
}
