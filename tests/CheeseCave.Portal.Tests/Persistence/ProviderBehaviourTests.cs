using CheeseCave.Portal.Audit;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Persistence;

/// <summary>
/// What differs between SQLite and PostgreSQL underneath, seen through the running portal on each: instants with
/// any offset stored, compared and sorted as instants; text search that ignores ASCII case on both (SQLite's LIKE
/// does by itself, PostgreSQL's does not); values longer than a column's declared length kept on both.
/// </summary>
public sealed class ProviderBehaviourTests
{
    [Fact]
    public Task The_portal_on_sqlite_keeps_instants_searches_ignoring_case_and_keeps_long_values() => BehavesTheSameAsync(DatabaseProvider.Sqlite);

    [PostgreSqlFact]
    public Task The_portal_on_postgresql_keeps_instants_searches_ignoring_case_and_keeps_long_values() => BehavesTheSameAsync(DatabaseProvider.PostgreSql);

    private static async Task BehavesTheSameAsync(DatabaseProvider provider)
    {
        await using var portal = new PortalFactory { Database = provider };
        await portal.CreateUserAsync("Case-Reviewer", PortalRoles.Approver);
        var reviewer = await portal.PrincipalForAsync("Case-Reviewer");
        var health = await portal.CreatePortalClient().GetStringAsync("/health/ready");
        Assert.Contains("schema up to date", health, StringComparison.Ordinal);

        // The same instant written in three offsets, and an earlier one whose local clock reads later.
        var noon = new DateTimeOffset(2026, 12, 8, 12, 0, 0, TimeSpan.Zero);
        await portal.WithDbAsync(async db =>
        {
            db.AuditEntries.AddRange(
                Entry(noon.ToOffset(TimeSpan.FromHours(5)), "instant-a"),
                Entry(noon.ToOffset(TimeSpan.FromHours(-7)), "instant-b"),
                Entry(noon.AddMinutes(-30).ToOffset(TimeSpan.FromHours(9)), "instant-earlier"),
                Entry(noon, "Long-Detail-Owner", new string('x', 2000)));
            return await db.SaveChangesAsync();
        });

        var (sameInstant, sorted, longDetail) = await portal.WithDbAsync(async db => (
            await db.AuditEntries.CountAsync(a => a.At == noon),
            await db.AuditEntries.Where(a => a.Action == "test.provider").OrderBy(a => a.At).ThenBy(a => a.Id).Select(a => a.Actor).ToListAsync(),
            await db.AuditEntries.Where(a => a.Actor == "Long-Detail-Owner").Select(a => a.Detail!.Length).SingleAsync()));
        Assert.Equal(3, sameInstant);
        Assert.Equal(["instant-earlier", "instant-a", "instant-b", "Long-Detail-Owner"], sorted);
        Assert.Equal(2000, longDetail);
        var read = await portal.WithDbAsync(db => db.AuditEntries.AsNoTracking().SingleAsync(a => a.Actor == "instant-a"));
        Assert.Equal(noon, read.At);

        // The audit trail's free text and actor filters ignore ASCII case on both databases.
        var trail = portal.Services.GetRequiredService<AuditTrail>();
        var byText = await trail.SearchAsync(reviewer, new AuditFilter { Text = "LONG-detail", Action = "test.PROVIDER".ToLowerInvariant() }, 0, 10);
        Assert.Equal(["Long-Detail-Owner"], byText!.Items.Select(r => r.Actor));
        var byActor = await trail.SearchAsync(reviewer, new AuditFilter { Actor = "INSTANT-A" }, 0, 10);
        Assert.Equal(["instant-a"], byActor!.Items.Select(r => r.Actor));
        var byPrefix = await trail.SearchAsync(reviewer, new AuditFilter { Action = "TEST.prov*" }, 0, 10);
        Assert.Equal(4, byPrefix!.TotalCount);
    }

    private static AuditEntry Entry(DateTimeOffset at, string actor, string? detail = null) =>
        new() { At = at, Actor = actor, Action = "test.provider", Outcome = AuditOutcomes.Succeeded, Detail = detail };
}
