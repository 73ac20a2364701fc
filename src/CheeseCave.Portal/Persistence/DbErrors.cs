using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CheeseCave.Portal.Persistence;

/// <summary>Provider-neutral reading of database errors that the portal handles on purpose.</summary>
public static class DbErrors
{
    /// <summary>A unique index or primary key refused the row: somebody else (another instance, perhaps) got there first.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception) =>
        exception?.InnerException is SqliteException { SqliteErrorCode: 19 } or PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
