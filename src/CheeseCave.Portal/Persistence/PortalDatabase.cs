using CheeseCave.Portal.Configuration;

namespace CheeseCave.Portal.Persistence;

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
            return new PortalDatabase(DatabaseProvider.Sqlite, PortalDbContext.ConnectionStringFor(paths.DataDirectory));
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

        string? host;
        try
        {
            host = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Host;
        }
        catch (ArgumentException ex)
        {
            // Npgsql names the keyword it did not understand, never a value.
            throw new PortalConfigurationException(
                $"ConnectionStrings:{DatabaseOptions.ConnectionStringName} is not a PostgreSQL connection string ({ex.Message}): write it as \"Host=...;Database=...;Username=...;Password=...\".", ex);
        }

        if (string.IsNullOrWhiteSpace(host))
        {
            throw new PortalConfigurationException(
                $"ConnectionStrings:{DatabaseOptions.ConnectionStringName} names no server: add Host=<name or address> (and Port= when it is not 5432).");
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
