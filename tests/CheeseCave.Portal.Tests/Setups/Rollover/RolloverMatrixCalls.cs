using CheeseCave.Portal.Tests.Security.AuthorizationMatrix;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Rollover;

/// <summary>Calls a rollover handler of a fresh DI scope of the authorization matrix's portal.</summary>
internal static class RolloverMatrixCalls
{
    public static async Task<object?> Call<THandler, T>(MatrixWorld world, Func<THandler, Task<T>> call)
        where THandler : notnull
    {
        await using var scope = world.Factory.Services.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<THandler>());
    }
}
