using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Auditing;

public sealed class AuditLogTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Entries_are_appended_and_read_newest_first()
    {
        var audit = factory.Services.GetRequiredService<AuditLog>();
        await audit.WriteAsync(new Actor("id-1", "dave"), "test.first", "thing", AuditOutcomes.Succeeded);
        await audit.WriteAsync(Actor.System, "test.second", null, AuditOutcomes.Failed, "because");

        var recent = await audit.ReadRecentAsync(2);
        Assert.Equal(["test.second", "test.first"], recent.Select(a => a.Action));
        Assert.Equal(("system", null, "because"), (recent[0].Actor, recent[0].ActorId, recent[0].Detail));
        Assert.Equal(("dave", "id-1", "thing"), (recent[1].Actor, recent[1].ActorId, recent[1].Target));
        Assert.All(recent, a => Assert.Matches("^[0-9a-f]{32}$", a.CorrelationId!));
        Assert.InRange(recent[0].At, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Entries_cannot_be_changed_or_deleted_through_the_context_or_in_sql()
    {
        await factory.Services.GetRequiredService<AuditLog>().WriteAsync(Actor.System, "test.immutable", null, AuditOutcomes.Succeeded);

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var entry = await db.AuditEntries.FirstAsync(a => a.Action == "test.immutable");

        entry.Outcome = AuditOutcomes.Failed;
        Assert.Contains("append-only", (await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync())).Message, StringComparison.Ordinal);
        db.ChangeTracker.Clear();

        db.AuditEntries.Remove(entry);
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        db.ChangeTracker.Clear();

        Assert.Contains("append-only", (await Assert.ThrowsAsync<SqliteException>(() => db.Database.ExecuteSqlRawAsync("UPDATE AuditEntries SET Outcome = 'x'"))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SqliteException>(() => db.Database.ExecuteSqlRawAsync("DELETE FROM AuditEntries"));
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "test.immutable" && a.Outcome == AuditOutcomes.Succeeded));
    }
}
