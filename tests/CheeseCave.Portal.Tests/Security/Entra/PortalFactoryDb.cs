using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Security.Entra;

/// <summary>Reads the audit log of a host without going through the UI.</summary>
internal sealed class PortalFactoryDb(EntraPortalFactory factory)
{
    public async Task<int> CountAsync(string action, string actor)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CheeseCave.Portal.Persistence.PortalDbContext>();
        return db.AuditEntries.Count(a => a.Action == action && a.Actor == actor);
    }
}
