using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Tests.Persistence;

/// <summary>
/// On PostgreSQL, as on SQLite, one transaction runs at a time: a second one waits until the first commits, then reads
/// what it wrote (Persistence/PostgreSql/SingleWriterTransactions.cs). The portal's check-then-act transactions (a
/// one-time link used once, the last administrator kept) rely on it.
/// </summary>
public sealed class SingleWriterTransactionsTests
{
    [Infrastructure.PostgreSqlFact]
    public async Task On_postgresql_a_second_transaction_waits_for_the_first_and_then_sees_its_writes()
    {
        await using var database = new ProviderDatabase(DatabaseProvider.PostgreSql);
        await using var first = await database.MigratedAsync();
        await using var second = database.CreateContext();
        await using var observer = database.CreateContext();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));

        await using var firstTransaction = await first.Database.BeginTransactionAsync(timeout.Token);
        first.AuditEntries.Add(new AuditEntry { At = DateTimeOffset.UtcNow, Actor = "first", Action = "test.single-writer", Outcome = AuditOutcomes.Succeeded });
        await first.SaveChangesAsync(timeout.Token);

        var secondSaw = Task.Run(async () =>
        {
            await using var transaction = await second.Database.BeginTransactionAsync(timeout.Token);
            var count = await second.AuditEntries.CountAsync(a => a.Action == "test.single-writer", timeout.Token);
            await transaction.CommitAsync(timeout.Token);
            return count;
        });

        // Wait until the server shows the second transaction waiting for the lock the first holds.
        while (await observer.Database.SqlQueryRaw<int>("SELECT count(*)::int AS \"Value\" FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").SingleAsync(timeout.Token) == 0)
        {
            Assert.False(secondSaw.IsCompleted, "the second transaction ran while the first was open");
        }

        Assert.False(secondSaw.IsCompleted);
        await firstTransaction.CommitAsync(timeout.Token);
        Assert.Equal(1, await secondSaw);
    }
}
