using CheeseCave.Portal.Configuration;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Persistence;

/// <summary>
/// Hands out <see cref="PortalDbContext"/> for the configured database: the SQLite context, or
/// <see cref="PostgreSqlPortalDbContext"/> (same model, its own migrations) on PostgreSQL.
/// </summary>
public sealed class PortalDbContextFactory(DbContextOptions<PortalDbContext> options, PortalDatabase database) : IDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext() => Create(options, database.Provider);

    public static PortalDbContext Create(DbContextOptions<PortalDbContext> options, DatabaseProvider provider) =>
        provider == DatabaseProvider.PostgreSql ? new PostgreSqlPortalDbContext(options) : new PortalDbContext(options);

    /// <summary>Points EF Core at the configured database.</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, PortalDatabase database)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(database);
        return database.Provider == DatabaseProvider.PostgreSql
            ? builder.UseNpgsql(database.ConnectionString)
            : builder.UseSqlite(database.ConnectionString);
    }
}
