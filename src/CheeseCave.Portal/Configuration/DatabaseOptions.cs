using CheeseCave.Portal.Security.Entra;

namespace CheeseCave.Portal.Configuration;

/// <summary>
/// <c>CheeseCave:Database</c>: which database the portal keeps its data in. SQLite in the data folder by default
/// (nothing to set up); PostgreSQL for a managed database or several instances, with its connection string in
/// <c>ConnectionStrings:CheeseCave</c> (kept there so secret stores and environment variables that know the
/// ConnectionStrings convention can supply it).
/// </summary>
public sealed class DatabaseOptions
{
    public const string Sqlite = "Sqlite";
    public const string PostgreSql = "PostgreSQL";
    public const string ConnectionStringName = "CheeseCave";

    /// <summary><c>Sqlite</c> (default) or <c>PostgreSQL</c>, in any letter case.</summary>
    public string Provider { get; set; } = Sqlite;
}

/// <summary>The database the portal uses, checked once at start-up so a wrong setting stops it with one sentence.</summary>
public sealed record PortalDatabase(DatabaseProvider Provider, string ConnectionString)
{
    /// <summary>
    /// Reads <c>CheeseCave:Database:Provider</c> and, for PostgreSQL, <c>ConnectionStrings:CheeseCave</c>; SQLite keeps
    /// its file in the data folder and ignores the connection string.
    /// </summary>
    /// <exception cref="PortalConfigurationException">The provider is unknown or PostgreSQL has no connection string.</exception>
    public static PortalDatabase From(IConfiguration configuration, CheeseCaveOptions settings, PortalPaths paths)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(paths);

        var provider = settings.Database.Provider?.Trim();
        if (string.IsNullOrEmpty(provider) || provider.Equals(DatabaseOptions.Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            return new PortalDatabase(DatabaseProvider.Sqlite, Persistence.PortalDbContext.ConnectionStringFor(paths.DataDirectory));
        }

        if (!provider.Equals(DatabaseOptions.PostgreSql, StringComparison.OrdinalIgnoreCase)
            && !provider.Equals("Postgres", StringComparison.OrdinalIgnoreCase)
            && !provider.Equals("Npgsql", StringComparison.OrdinalIgnoreCase))
        {
            throw new PortalConfigurationException(
                $"CheeseCave:Database:Provider is '{provider}', which the portal does not know: set it to {DatabaseOptions.Sqlite} (the default) or {DatabaseOptions.PostgreSql}.");
        }

        var connectionString = configuration.GetConnectionString(DatabaseOptions.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new PortalConfigurationException(
                $"CheeseCave:Database:Provider is {DatabaseOptions.PostgreSql} but ConnectionStrings:{DatabaseOptions.ConnectionStringName} is empty: set it (for example the environment variable ConnectionStrings__{DatabaseOptions.ConnectionStringName}) to \"Host=...;Database=cheesecave;Username=...;Password=...\".");
        }

        return new PortalDatabase(DatabaseProvider.PostgreSql, connectionString);
    }

    /// <summary>Where the data is, for logs: the SQLite file, or the PostgreSQL host and database (never the password).</summary>
    public string Describe()
    {
        if (Provider == DatabaseProvider.Sqlite)
        {
            return new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString).DataSource;
        }

        var builder = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
        return $"PostgreSQL database '{builder.Database}' on {builder.Host}:{builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    public override string ToString() => Describe(); // a record's default would print the connection string
}

public enum DatabaseProvider
{
    Sqlite,
    PostgreSql,
}
