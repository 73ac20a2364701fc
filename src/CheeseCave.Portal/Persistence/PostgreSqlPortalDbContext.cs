using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace CheeseCave.Portal.Persistence;

/// <summary>
/// The portal's model on PostgreSQL. Only the type differs from <see cref="PortalDbContext"/>: EF Core picks a
/// context's migrations by its type, so this one runs Persistence/PostgreSqlMigrations and the base type keeps the
/// SQLite history that existing databases carry. Code asks for <see cref="PortalDbContext"/> and gets this one when
/// <c>CheeseCave:Database:Provider</c> is PostgreSQL (<see cref="PortalDbContextFactory"/>).
/// </summary>
public sealed class PostgreSqlPortalDbContext(DbContextOptions<PortalDbContext> options) : PortalDbContext(options);

/// <summary>
/// Lets <c>dotnet ef migrations add --context PostgreSqlPortalDbContext</c> build the PostgreSQL model without a
/// server: adding a migration compares the model with the snapshot and never connects.
/// </summary>
public sealed class PostgreSqlPortalDbContextDesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlPortalDbContext>
{
    public PostgreSqlPortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PortalDbContext>().UseNpgsql("Host=localhost;Database=cheesecave_design_time").Options);
}
