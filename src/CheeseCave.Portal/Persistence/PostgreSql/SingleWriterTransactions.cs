using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace CheeseCave.Portal.Persistence.PostgreSql;

/// <summary>
/// Gives PostgreSQL transactions SQLite's rule: one transaction at a time. EF Core starts SQLite transactions with
/// BEGIN IMMEDIATE, so a transaction that reads something and then writes based on it (a one-time link still unused,
/// an administrator not the last one) cannot interleave with another; the portal's code relies on that. PostgreSQL's
/// default READ COMMITTED would let two such transactions both read "unused" and both act. Each transaction here first
/// takes one transaction-scoped advisory lock, held until commit or rollback; the next one waits, then reads what
/// the first committed. Statements outside a transaction (the atomic claims, reads) do not take it.
/// </summary>
internal sealed class SingleWriterTransactions : DbTransactionInterceptor
{
    public static SingleWriterTransactions Instance { get; } = new();

    /// <summary>"CCPortal" as a number (0x4343506F7274616C): the one lock the portal's transactions share in its database.</summary>
    public const long LockKey = 0x4343_506F_7274_616C;

    private const string TakeLock = "SELECT pg_advisory_xact_lock(4846806063572607340)";

    public override DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = Command(connection, result);
        command.ExecuteNonQuery();
        return result;
    }

    public override async ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = Command(connection, result);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = TakeLock;
        return command;
    }
}
