using CheeseCave.Portal.Setups.HubDevices;
using CheeseCave.Portal.Tests.Security.AuthorizationMatrix;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.HubDevices;

/// <summary>The authorization matrix's calls into the Devices page's handler, from a fresh scope.</summary>
internal static class HubDevicesMatrixCalls
{
    public static async Task<object?> Call<T>(MatrixWorld world, Func<HubDevicesHandler, Task<T>> call)
    {
        await using var scope = world.Factory.Services.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<HubDevicesHandler>());
    }
}
