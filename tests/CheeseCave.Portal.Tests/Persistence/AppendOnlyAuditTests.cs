using System.Data.Common;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Tests.Persistence;

/// <summary>
/// The audit log is append-only and a stored key is never overwritten, enforced by the database itself on both
/// providers (SQLite triggers; PostgreSQL triggers from Persistence/PostgreSql/AppendOnlyTriggers.cs), so SQL that
/// bypasses the portal's context is refused too. Each test migrates an empty database of its own.
/// </summary>
public sealed class AppendOnlyAuditTests
{
    [Fact]
    public Task Sqlite_refuses_to_update_or_delete_an_audit_entry() => RefusesAuditRewritesAsync(DatabaseProvider.Sqlite);

    [PostgreSqlFact]
    public Task PostgreSql_refuses_to_update_delete_or_truncate_an_audit_entry() => RefusesAuditRewritesAsync(DatabaseProvider.PostgreSql);

    [Fact]
    public Task Sqlite_refuses_to_overwrite_a_stored_key() => RefusesKeyOverwriteAsync(DatabaseProvider.Sqlite);

    [PostgreSqlFact]
    public Task PostgreSql_refuses_to_overwrite_a_stored_key() => RefusesKeyOverwriteAsync(DatabaseProvider.PostgreSql);

    private static async Task RefusesAuditRewritesAsync(DatabaseProvider provider)
    {
        await using var database = new ProviderDatabase(provider);
        await using var db = await database.MigratedAsync();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());

        db.AuditEntries.Add(new AuditEntry { At = DateTimeOffset.UtcNow, Actor = "alice", Action = "test.append-only", Outcome = AuditOutcomes.Succeeded });
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();

        // Through the context: refused before any SQL is sent.
        var entry = await db.AuditEntries.SingleAsync();
        entry.Outcome = AuditOutcomes.Failed;
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        db.ChangeTracker.Clear();

        // In SQL, and through EF's bulk statements, which bypass the context's check: the database refuses.
        await AssertRefusedAsync(() => db.Database.ExecuteSqlRawAsync("UPDATE \"AuditEntries\" SET \"Outcome\" = 'failed'"), "append-only");
        await AssertRefusedAsync(() => db.Database.ExecuteSqlRawAsync("DELETE FROM \"AuditEntries\""), "append-only");
        await AssertRefusedAsync(() => db.AuditEntries.ExecuteUpdateAsync(s => s.SetProperty(a => a.Actor, "mallory")), "append-only");
        await AssertRefusedAsync(() => db.AuditEntries.ExecuteDeleteAsync(), "append-only");
        if (provider == DatabaseProvider.PostgreSql)
        {
            // TRUNCATE skips row triggers; a statement trigger refuses it.
            await AssertRefusedAsync(() => db.Database.ExecuteSqlRawAsync("TRUNCATE \"AuditEntries\""), "append-only");
        }

        var kept = await db.AuditEntries.AsNoTracking().SingleAsync();
        Assert.Equal(("alice", AuditOutcomes.Succeeded), (kept.Actor, kept.Outcome));

        // Appending still works after the refusals.
        db.AuditEntries.Add(new AuditEntry { At = DateTimeOffset.UtcNow, Actor = "bob", Action = "test.append-only", Outcome = AuditOutcomes.Succeeded });
        await db.SaveChangesAsync();
        Assert.Equal(2, await db.AuditEntries.CountAsync());
    }

    private static async Task RefusesKeyOverwriteAsync(DatabaseProvider provider)
    {
        await using var database = new ProviderDatabase(provider);
        await using var db = await database.MigratedAsync();
        db.ProtectedKeys.Add(new ProtectedKey { KeyId = "setup-1/ca", ProtectedBytes = [1, 2, 3], CreatedAt = DateTimeOffset.UtcNow, CreatedBy = "alice" });
        await db.SaveChangesAsync();

        await AssertRefusedAsync(() => db.Database.ExecuteSqlRawAsync("UPDATE \"ProtectedKeys\" SET \"CreatedBy\" = 'mallory'"), "never overwritten");
        await AssertRefusedAsync(() => db.ProtectedKeys.ExecuteUpdateAsync(s => s.SetProperty(k => k.CreatedBy, "mallory")), "never overwritten");
        Assert.Equal([1, 2, 3], (await db.ProtectedKeys.AsNoTracking().SingleAsync()).ProtectedBytes);
    }

    private static async Task AssertRefusedAsync(Func<Task> statement, string reason)
    {
        var refused = await Assert.ThrowsAnyAsync<DbException>(statement);
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }
}
