using System.Globalization;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace CheeseCave.Portal.Persistence;

/// <summary>
/// The portal's database: local accounts (ASP.NET Core Identity), the audit log, protected CA keys and one-time
/// links. SQLite at <c>{DataDirectory}/cheesecave.db</c> by default; the schema comes from the committed migrations
/// (Persistence/Migrations). On PostgreSQL the portal uses <see cref="PostgreSqlPortalDbContext"/>, the same model
/// with its own migrations (see ARCHITECTURE.md, "Database").
/// </summary>
public class PortalDbContext(DbContextOptions<PortalDbContext> options) : IdentityDbContext<PortalUser>(options), IDataProtectionKeyContext
{
    public const string FileName = Configuration.PortalPaths.DatabaseFileName;

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<ProtectedKey> ProtectedKeys => Set<ProtectedKey>();

    public DbSet<SetupToken> SetupTokens => Set<SetupToken>();

    public DbSet<Invitation> Invitations => Set<Invitation>();

    public DbSet<DpsSetup> Setups => Set<DpsSetup>();

    public DbSet<SetupCertificate> SetupCertificates => Set<SetupCertificate>();

    public DbSet<SetupDevice> SetupDevices => Set<SetupDevice>();

    public DbSet<ApprovalRequest> ApprovalRequests => Set<ApprovalRequest>();

    public DbSet<ApprovalDecision> ApprovalDecisions => Set<ApprovalDecision>();

    public DbSet<CaRollover> CaRollovers => Set<CaRollover>();

    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    public DbSet<IssuanceGrant> IssuanceGrants => Set<IssuanceGrant>();

    public DbSet<RolloverBatch> RolloverBatches => Set<RolloverBatch>();

    public DbSet<ExpiryNotification> ExpiryNotifications => Set<ExpiryNotification>();

    public DbSet<PortalInstanceRecord> PortalInstances => Set<PortalInstanceRecord>();

    public DbSet<SetupOperationRecord> SetupOperations => Set<SetupOperationRecord>();

    public DbSet<RateLimitCounter> RateLimitCounters => Set<RateLimitCounter>();

    public DbSet<ClusterLease> ClusterLeases => Set<ClusterLease>();

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public static string ConnectionStringFor(string dataDirectory) =>
        $"Data Source={Path.Combine(dataDirectory, FileName)};Foreign Keys=True";

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        base.ConfigureConventions(configurationBuilder);

        if (Database.IsSqlite())
        {
            // SQLite has no date type, and EF cannot compare or sort DateTimeOffset there. Stored as fixed-width UTC
            // ISO 8601 text instead, which compares and sorts correctly and stays readable in the sqlite3 shell.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcTextConverter>().HaveMaxLength(28);
        }
        else
        {
            PostgreSqlModel.ConfigureConventions(configurationBuilder);
        }
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        base.OnModelCreating(builder);

        builder.Entity<PortalUser>(user =>
        {
            user.Property(u => u.IsDisabled).HasDefaultValue(false);
        });

        // The four roles exist from the first migration on, with stable ids.
        builder.Entity<IdentityRole>().HasData(PortalRoles.All.Select(role => new IdentityRole
        {
            Id = "role-" + role.ToLowerInvariant(),
            Name = role,
            NormalizedName = role.ToUpperInvariant(),
            ConcurrencyStamp = "role-" + role.ToLowerInvariant(),
        }));

        builder.Entity<AuditEntry>(audit =>
        {
            audit.ToTable("AuditEntries");
            audit.HasKey(a => a.Id);
            audit.Property(a => a.Actor).HasMaxLength(256);
            audit.Property(a => a.ActorId).HasMaxLength(450);
            audit.Property(a => a.Action).HasMaxLength(64);
            audit.Property(a => a.Target).HasMaxLength(256);
            audit.Property(a => a.Outcome).HasMaxLength(32);
            audit.Property(a => a.Detail).HasMaxLength(512);
            audit.Property(a => a.CorrelationId).HasMaxLength(64);
            audit.HasIndex(a => a.At);
        });

        builder.Entity<ProtectedKey>(key =>
        {
            key.ToTable("ProtectedKeys");
            key.HasKey(k => k.KeyId);
            key.Property(k => k.KeyId).HasMaxLength(200);
            key.Property(k => k.CreatedBy).HasMaxLength(256);
        });

        builder.Entity<SetupToken>(token =>
        {
            token.ToTable("SetupTokens");
            token.HasIndex(t => t.TokenHash).IsUnique();
        });

        builder.Entity<Invitation>(invitation =>
        {
            invitation.ToTable("Invitations");
            invitation.HasIndex(i => i.TokenHash).IsUnique();
            invitation.Property(i => i.UserName).HasMaxLength(256);
            invitation.Property(i => i.Role).HasMaxLength(32);
            invitation.Property(i => i.CreatedBy).HasMaxLength(256);
        });

        builder.Entity<DpsSetup>(setup =>
        {
            setup.ToTable("Setups");
            setup.HasKey(s => s.Id);
            setup.Property(s => s.Name).HasMaxLength(100);
            setup.HasIndex(s => s.Name).IsUnique();
            setup.Property(s => s.CreatedBy).HasMaxLength(256);
            setup.Property(s => s.UpdatedBy).HasMaxLength(256);
            setup.Property(s => s.SubscriptionId).HasMaxLength(64);
            setup.Property(s => s.ResourceGroup).HasMaxLength(90);
            setup.Property(s => s.DpsName).HasMaxLength(64);
            setup.Property(s => s.Location).HasMaxLength(64);
            setup.Property(s => s.IdScope).HasMaxLength(32);
            setup.Property(s => s.ServiceHost).HasMaxLength(256);
            setup.Property(s => s.DeviceHost).HasMaxLength(256);
            setup.Property(s => s.AllocationPolicy).HasMaxLength(32);
            setup.Property(s => s.LinkedHubs).HasMaxLength(2000);
            setup.HasMany(s => s.Certificates).WithOne().HasForeignKey(c => c.SetupId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<SetupCertificate>(certificate =>
        {
            certificate.ToTable("SetupCertificates");
            certificate.HasKey(c => c.Id);
            certificate.Property(c => c.Kind).HasConversion<string>().HasMaxLength(16);
            certificate.Property(c => c.Subject).HasMaxLength(512);
            certificate.Property(c => c.ThumbprintSha1).HasMaxLength(40);
            certificate.Property(c => c.ThumbprintSha256).HasMaxLength(64);
            certificate.Property(c => c.KeyId).HasMaxLength(200);
            certificate.Property(c => c.DpsCertificateName).HasMaxLength(128);
            certificate.Property(c => c.CreatedBy).HasMaxLength(256);
            certificate.Property(c => c.SerialNumber).HasMaxLength(64);
            certificate.Property(c => c.Issuer).HasMaxLength(512);
            certificate.Property(c => c.KeyType).HasMaxLength(32);
            certificate.Property(c => c.ApprovedBy).HasMaxLength(512);
            certificate.Property(c => c.RetiredBy).HasMaxLength(256);
        });

        builder.Entity<SetupDevice>(device =>
        {
            device.ToTable("SetupDevices");
            device.HasKey(d => d.Id);
            device.HasOne<DpsSetup>().WithMany().HasForeignKey(d => d.SetupId).OnDelete(DeleteBehavior.Cascade);
            device.Property(d => d.RegistrationId).HasMaxLength(128);
            device.Property(d => d.ThumbprintSha1).HasMaxLength(40);
            device.Property(d => d.ThumbprintSha256).HasMaxLength(64);
            device.Property(d => d.BatchId).HasMaxLength(64);
            device.Property(d => d.IssuedBy).HasMaxLength(256);
            device.HasIndex(d => new { d.SetupId, d.BatchId });
            device.HasIndex(d => new { d.SetupId, d.RegistrationId });
            device.Property(d => d.SerialNumber).HasMaxLength(64);
            device.Property(d => d.Issuer).HasMaxLength(512);
            device.Property(d => d.KeyType).HasMaxLength(32);
            device.Property(d => d.Source).HasConversion<string>().HasMaxLength(16);
            device.Property(d => d.RequestedBy).HasMaxLength(256);
            device.Property(d => d.ApprovedBy).HasMaxLength(512);
            device.Property(d => d.RevokedBy).HasMaxLength(256);
            device.Property(d => d.RevocationReason).HasMaxLength(512);
            device.HasIndex(d => d.NotAfter);
            device.HasIndex(d => d.ThumbprintSha1);
        });

        ApprovalModel.Configure(builder);
        RolloverModel.Configure(builder);
        AutomationModel.Configure(builder);
        ExpiryModel.Configure(builder);
        ClusterModel.Configure(builder);
        KeyRingModel.Configure(builder);

        if (!Database.IsSqlite())
        {
            PostgreSqlModel.Configure(builder); // last: it adjusts what the configurations above declared
        }
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        RefuseRewrites();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        RefuseRewrites();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    /// <summary>The audit log is append-only and a stored key is never replaced.</summary>
    private void RefuseRewrites()
    {
        foreach (var entry in ChangeTracker.Entries())
        {
            if (entry.Entity is AuditEntry && entry.State is EntityState.Modified or EntityState.Deleted)
            {
                throw new InvalidOperationException("Audit entries are append-only: they cannot be changed or deleted.");
            }

            if (entry.Entity is ProtectedKey && entry.State is EntityState.Modified)
            {
                throw new InvalidOperationException("A stored key is never overwritten.");
            }
        }
    }

    private sealed class UtcTextConverter() : ValueConverter<DateTimeOffset, string>(
        value => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        text => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal));
}

/// <summary>Lets <c>dotnet ef migrations add --context PortalDbContext</c> build the SQLite model without starting the portal.</summary>
public sealed class PortalDbContextDesignTimeFactory : IDesignTimeDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PortalDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
