using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace CheeseCave.Portal.Persistence;

/// <summary>
/// Where the PostgreSQL model differs from the SQLite one, called from <see cref="PortalDbContext"/> when it runs on
/// PostgreSQL. Both differences keep the two databases accepting and returning the same values.
/// </summary>
internal static class PostgreSqlModel
{
    public static void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // timestamptz stores an instant; Npgsql refuses to write a DateTimeOffset whose offset is not zero (a
        // certificate date read in local time, say). Written as UTC, read back as UTC, as SQLite's text does.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcConverter>();
    }

    public static void Configure(ModelBuilder builder)
    {
        // SQLite does not enforce a declared length; PostgreSQL's varchar(n) does. Text columns without a limit keep
        // a value SQLite stores (a long audit detail, an imported certificate's subject) from failing on PostgreSQL
        // only; the portal checks lengths where people type them.
        foreach (var property in builder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()).Where(p => p.GetMaxLength() is not null))
        {
            property.SetMaxLength(null);
        }
    }

    private sealed class UtcConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(
        value => value.ToUniversalTime(),
        value => value.ToUniversalTime());
}
