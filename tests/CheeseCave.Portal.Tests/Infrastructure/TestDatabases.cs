using System.Security.Cryptography;
using System.Text;
using CheeseCave.Portal.Configuration;
using Npgsql;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>
/// Which database the portal tests run on, and the PostgreSQL server to use.
/// <list type="bullet">
/// <item><c>CHEESECAVE_TEST_DATABASE=PostgreSQL</c> runs every <see cref="PortalFactory"/> on PostgreSQL (tests/run.sh
/// does so for the persistence, approval, audit and authorization tests); SQLite otherwise.</item>
/// <item><c>CHEESECAVE_TEST_POSTGRES</c> is the server's connection string (<c>eval "$(tests/postgres.sh start)"</c>).
/// Each portal or fixture gets a database of its own on it, dropped when it is disposed.</item>
/// <item><c>CHEESECAVE_TEST_REQUIRE_POSTGRES=1</c> (tests/run.sh) turns a missing server into failures instead of skips.</item>
/// </list>
/// </summary>
public static class TestDatabases
{
    public const string ProviderVariable = "CHEESECAVE_TEST_DATABASE";
    public const string ServerVariable = "CHEESECAVE_TEST_POSTGRES";
    public const string RequireVariable = "CHEESECAVE_TEST_REQUIRE_POSTGRES";

    public const string MissingServer =
        "No PostgreSQL server for the PostgreSQL cases: start one with eval \"$(tests/postgres.sh start)\" (it exports " + ServerVariable + "), or run tests/run.sh, which does.";

    /// <summary>The provider portals use unless a test asks for one.</summary>
    public static DatabaseProvider DefaultProvider { get; } =
        string.Equals(Environment.GetEnvironmentVariable(ProviderVariable), DatabaseOptions.PostgreSql, StringComparison.OrdinalIgnoreCase)
            ? DatabaseProvider.PostgreSql
            : DatabaseProvider.Sqlite;

    public static string? ServerConnectionString { get; } = NullIfEmpty(Environment.GetEnvironmentVariable(ServerVariable));

    /// <summary>Why PostgreSQL cases are skipped, or null when they run (a server is configured, or one is required).</summary>
    public static string? PostgreSqlSkipReason =>
        ServerConnectionString is null && Environment.GetEnvironmentVariable(RequireVariable) != "1" ? MissingServer : null;

    public static string RequireServer() => ServerConnectionString ?? throw new InvalidOperationException(MissingServer);

    /// <summary>
    /// A connection string for a database named after <paramref name="owner"/> (a data folder, a fixture's id): the same
    /// owner gets the same database, so a portal restarted on its data folder finds its data. EF Core's migrations
    /// create it on first use.
    /// </summary>
    public static string ConnectionStringFor(string owner)
    {
        var name = "cheesecave_test_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(owner)))[..24];
        return new NpgsqlConnectionStringBuilder(RequireServer())
        {
            Database = name,
            MaxPoolSize = 20, // many portals share the server: idle connections should not add up to its limit
        }.ConnectionString;
    }

    /// <summary>Drops the owner's database, closing connections still open (a stopped host's pool).</summary>
    public static async Task DropAsync(string connectionString)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(RequireServer()) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

/// <summary>A fact that runs only with a PostgreSQL server (<see cref="TestDatabases"/>), and says so when skipped.</summary>
public sealed class PostgreSqlFactAttribute : FactAttribute
{
    public PostgreSqlFactAttribute() => Skip = TestDatabases.PostgreSqlSkipReason;
}
