using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Tests.Persistence;

/// <summary>
/// An empty database of one provider for one test, without a portal around it: a SQLite file in a temporary folder,
/// or a fresh database on the test PostgreSQL server. Contexts come from the portal's own factory, so they are the
/// provider's context type with its migrations.
/// </summary>
internal sealed class ProviderDatabase : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cheesecave-db-test-" + Guid.NewGuid().ToString("N"));
    private readonly PortalDatabase _database;

    public ProviderDatabase(DatabaseProvider provider)
    {
        Directory.CreateDirectory(_folder);
        _database = provider == DatabaseProvider.PostgreSql
            ? new PortalDatabase(provider, TestDatabases.ConnectionStringFor(_folder))
            : new PortalDatabase(provider, PortalDbContext.ConnectionStringFor(_folder));
    }

    public DatabaseProvider Provider => _database.Provider;

    public PortalDbContext CreateContext()
    {
        var options = PortalDbContextFactory.Configure(new DbContextOptionsBuilder<PortalDbContext>(), _database);
        return PortalDbContextFactory.Create((DbContextOptions<PortalDbContext>)options.Options, _database.Provider);
    }

    /// <summary>A context on the database with every migration applied.</summary>
    public async Task<PortalDbContext> MigratedAsync()
    {
        var db = CreateContext();
        await db.Database.MigrateAsync();
        return db;
    }

    public async ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        if (_database.Provider == DatabaseProvider.PostgreSql)
        {
            await TestDatabases.DropAsync(_database.ConnectionString);
        }

        await TestFolders.DeleteAsync(_folder);
    }
}
