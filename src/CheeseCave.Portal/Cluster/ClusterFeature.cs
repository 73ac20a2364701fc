using CheeseCave.Portal.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CheeseCave.Portal.Cluster;

/// <summary>
/// What lets several portal instances share one database (ARCHITECTURE.md, "Several instances"): this instance's
/// identity and heartbeat, the sweeps that report a dead instance's work as interrupted, leases, shared rate counters,
/// and the bus (PostgreSQL LISTEN/NOTIFY on PostgreSQL; nothing to send with SQLite, which serves one instance).
/// </summary>
public static class ClusterFeature
{
    public static IServiceCollection AddCluster(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CheeseCaveOptions>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<CheeseCaveOptions>>(new ClusterOptionsValidator(UsesPostgreSql(configuration)));
        services.AddSingleton<PortalInstance>();
        services.AddSingleton<ClusterMembership>();
        services.AddSingleton<ClusterLeases>();
        services.AddSingleton<SharedRateCounters>();
        services.AddSingleton<InstanceHeartbeat>();
        services.AddHostedService(sp => sp.GetRequiredService<InstanceHeartbeat>());

        if (UsesPostgreSql(configuration) && configuration.GetConnectionString(DatabaseOptions.ConnectionStringName) is { Length: > 0 } connectionString)
        {
            // A data source of its own: the listening connection stays open for the life of the process.
            services.AddSingleton(sp => new PostgresClusterBus(NpgsqlDataSource.Create(connectionString), sp.GetRequiredService<PortalInstance>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PostgresClusterBus>>()));
            services.AddSingleton<IClusterBus>(sp => sp.GetRequiredService<PostgresClusterBus>());
            services.AddHostedService(sp => sp.GetRequiredService<PostgresClusterBus>());
        }
        else
        {
            services.AddSingleton<IClusterBus, LocalClusterBus>();
        }

        return services;
    }

    public static bool UsesPostgreSql(IConfiguration configuration) =>
        string.Equals(configuration?[$"{CheeseCaveOptions.SectionName}:Database:Provider"]?.Trim(), DatabaseOptions.PostgreSql, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Refuses to start a cluster that cannot work: several instances on SQLite, or timings that take a slow instance for dead.</summary>
public sealed class ClusterOptionsValidator(bool postgreSql) : IValidateOptions<CheeseCaveOptions>
{
    public ValidateOptionsResult Validate(string? name, CheeseCaveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Cluster.Validate().ToList();
        if (options.Cluster.Instances > 1 && !postgreSql)
        {
            problems.Add($"CheeseCave:Cluster:Instances is {options.Cluster.Instances}, but the database is SQLite, which serves one instance: set CheeseCave:Database:Provider to PostgreSQL (docs/operations.md) or run one instance.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
