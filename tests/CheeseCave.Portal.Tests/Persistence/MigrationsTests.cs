using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Tests.Persistence;

/// <summary>
/// Each provider's committed migrations describe today's model (tools/add-migration.sh adds one to both sets), and
/// both sets carry the same migrations from the PostgreSQL baseline on. No database is needed for these.
/// </summary>
public sealed class MigrationsTests
{
    /// <summary>The last SQLite migration before PostgreSQL existed; the PostgreSQL set starts with all of it in one.</summary>
    private const string LastSqliteOnlyMigration = "20261207202827_InventoryExpiryWatch";
    private const string PostgreSqlBaseline = "InitialSchema";

    [Fact]
    public void The_sqlite_model_has_no_changes_missing_from_its_migrations()
    {
        using var db = new PortalDbContextDesignTimeFactory().CreateDbContext([]);
        Assert.True(db.Database.IsSqlite());
        Assert.False(db.Database.HasPendingModelChanges(), "Run tools/add-migration.sh <Name>: the SQLite migrations do not match the model.");
    }

    [Fact]
    public void The_postgresql_model_has_no_changes_missing_from_its_migrations()
    {
        using var db = new PostgreSqlPortalDbContextDesignTimeFactory().CreateDbContext([]);
        Assert.True(db.Database.IsNpgsql());
        Assert.False(db.Database.HasPendingModelChanges(), "Run tools/add-migration.sh <Name>: the PostgreSQL migrations do not match the model.");
    }

    [Fact]
    public void Both_providers_have_the_same_migrations_after_the_postgresql_baseline()
    {
        using var sqlite = new PortalDbContextDesignTimeFactory().CreateDbContext([]);
        using var postgres = new PostgreSqlPortalDbContextDesignTimeFactory().CreateDbContext([]);

        var sqliteNames = sqlite.Database.GetMigrations().ToList();
        var postgresNames = postgres.Database.GetMigrations().ToList();
        Assert.Contains(LastSqliteOnlyMigration, sqliteNames); // existing SQLite databases keep their history
        Assert.Equal(PostgreSqlBaseline, NameOf(postgresNames[0]));
        Assert.Equal(
            sqliteNames.SkipWhile(m => m != LastSqliteOnlyMigration).Skip(1).Select(NameOf),
            postgresNames.Skip(1).Select(NameOf));
    }

    [Fact]
    public void The_portal_hands_out_the_context_type_whose_migrations_fit_the_provider()
    {
        var options = new DbContextOptionsBuilder<PortalDbContext>().Options;
        Assert.IsType<PortalDbContext>(PortalDbContextFactory.Create(options, DatabaseProvider.Sqlite));
        Assert.IsType<PostgreSqlPortalDbContext>(PortalDbContextFactory.Create(options, DatabaseProvider.PostgreSql));
    }

    private static string NameOf(string migrationId) => migrationId[(migrationId.IndexOf('_', StringComparison.Ordinal) + 1)..];
}
