using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Cluster;

/// <summary>
/// Two portal instances on one PostgreSQL database, as behind a load balancer: each has its own host, data folder and
/// embedded emulator; they share the database and talk through its LISTEN/NOTIFY. Four eyes on, a fast heartbeat.
/// </summary>
public sealed class ClusterPortals : IAsyncLifetime
{
    private readonly string _database = "cluster-" + Guid.NewGuid().ToString("N");

    public ClusterPortals()
    {
        if (TestDatabases.PostgreSqlSkipReason is not null)
        {
            return; // the facts are skipped and say why
        }

        A = new PortalFactory { Approvals = true, Database = DatabaseProvider.PostgreSql, SharedDatabase = _database, ClusterInstances = 2, EmulatorTiming = "azure-like" };
        B = new PortalFactory { Approvals = true, Database = DatabaseProvider.PostgreSql, SharedDatabase = _database, ClusterInstances = 2 };
    }

    public PortalFactory A { get; } = null!;

    public PortalFactory B { get; } = null!;

    public async Task InitializeAsync()
    {
        if (TestDatabases.PostgreSqlSkipReason is not null)
        {
            return;
        }

        _ = A.Services; // migrates the shared database
        _ = B.Services;
        await Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (TestDatabases.PostgreSqlSkipReason is not null)
        {
            return;
        }

        await A.DisposeAsync();
        await B.DisposeAsync();
        await TestDatabases.DropAsync(TestDatabases.ConnectionStringFor(_database));
    }

    public static async Task<ClaimsPrincipal> UserAsync(PortalFactory portal, string name, string role)
    {
        await portal.CreateUserAsync(name, role);
        return await portal.PrincipalForAsync(name);
    }

    public static async Task<T> WithWizardAsync<T>(PortalFactory portal, Func<SetupSlices, Task<T>> use)
    {
        await using var scope = portal.Services.CreateAsyncScope();
        return await use(new SetupSlices(scope.ServiceProvider));
    }

    public static async Task<T> WithApprovalsAsync<T>(PortalFactory portal, Func<ApprovalService, Task<T>> use)
    {
        await using var scope = portal.Services.CreateAsyncScope();
        return await use(scope.ServiceProvider.GetRequiredService<ApprovalService>());
    }
}
