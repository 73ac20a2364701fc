using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Hosting;

/// <summary>Applies the committed EF Core migrations at start-up, before anything else touches the database.</summary>
public sealed partial class PortalDatabaseInitializer(IServiceScopeFactory scopes, PortalPaths paths, ILogger<PortalDatabaseInitializer> logger) : IHostedService
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
            LogMigrated(logger, pending.Count, pending[^1], paths.DatabaseFile);
        }

        // Password hashes and encrypted keys: readable by the portal's own user only (SQLite gives its -wal and
        // -shm files the database file's mode when it creates them).
        if (!OperatingSystem.IsWindows())
        {
            foreach (var file in new[] { paths.DatabaseFile, paths.DatabaseFile + "-wal", paths.DatabaseFile + "-shm" }.Where(File.Exists))
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Count} database migration(s), now at {Migration}: {DatabaseFile}")]
    private static partial void LogMigrated(ILogger logger, int count, string migration, string databaseFile);
}
