using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Hosting;

/// <summary>
/// Applies the committed EF Core migrations of the configured database at start-up, before anything else touches it.
/// On PostgreSQL this creates the database when the account may, and EF Core's migration lock keeps two instances
/// starting together from applying the same migration twice.
/// </summary>
public sealed partial class PortalDatabaseInitializer(IServiceScopeFactory scopes, PortalPaths paths, PortalDatabase database, ILogger<PortalDatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        paths.EnsureDataDirectory();

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToList();
        if (pending.Count > 0)
        {
            await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
            LogMigrated(logger, pending.Count, pending[^1], database);
        }

        // Password hashes and encrypted keys: readable by the portal's own user only (SQLite gives its -wal and
        // -shm files the database file's mode when it creates them). PostgreSQL keeps its files itself.
        if (database.Provider == DatabaseProvider.Sqlite && !OperatingSystem.IsWindows())
        {
            foreach (var file in new[] { paths.DatabaseFile, paths.DatabaseFile + "-wal", paths.DatabaseFile + "-shm" }.Where(File.Exists))
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Count} database migration(s), now at {Migration}: {Database}")]
    private static partial void LogMigrated(ILogger logger, int count, string migration, PortalDatabase database);
}
