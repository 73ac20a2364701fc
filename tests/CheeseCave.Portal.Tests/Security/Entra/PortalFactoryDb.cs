using System.Net;
using System.Security.Claims;
using Azure.Core;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Security.Entra;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web;
using Microsoft.Identity.Web.TokenCacheProviders.Distributed;
using CheeseCave.Portal.Tests.Infrastructure;

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
