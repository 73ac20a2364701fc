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

public enum DatabaseProvider
{
    Sqlite,
    PostgreSql,
}
