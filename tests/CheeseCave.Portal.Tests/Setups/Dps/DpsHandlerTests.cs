using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Dps;

/// <summary>Step 1 and the steps after it: service errors come back mapped, with status, code and what to do.</summary>
[Collection(SetupHandlersGroup.Name)]
public sealed class DpsHandlerTests(PortalFactory factory)
{
    private async Task<(AsyncServiceScope Scope, SetupSlices Service)> ServiceAsync()
    {
        var scope = factory.Services.CreateAsyncScope();
        await Task.Yield();
        return (scope, new SetupSlices(scope.ServiceProvider));
    }

    [Fact]
    public async Task Service_errors_come_back_with_status_and_code_and_a_next_step()
    {
        await factory.CreateUserAsync("wiz-errors", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("wiz-errors");
        var (scope, wizard) = await ServiceAsync();
        await using var _ = scope;
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.Setups.CreateAsync(op, "Error cave")).Value!.Id;

        var missingDps = await wizard.Dps.SelectDpsAsync(op, id, "cheesecave-rg", "no-such-dps");
        Assert.False(missingDps.Succeeded);
        Assert.Contains("no-such-dps", missingDps.Error!.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(missingDps.Error.WhatToDo));

        Assert.False((await wizard.Hubs.LinkHubAsync(op, id, "no-such-hub", "iothubowner", 1, true)).Succeeded); // no DPS yet
        Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "error-dps", "eastus")).Succeeded);
        var missingHub = await wizard.Hubs.LinkHubAsync(op, id, "no-such-hub", "iothubowner", 1, true);
        Assert.False(missingHub.Succeeded);
        Assert.Equal(404, missingHub.Error!.Status);
        Assert.NotNull(missingHub.Error.ServiceCode);
        Assert.False(missingHub.Error.IsTransient);

        var badWeight = await wizard.Hubs.LinkHubAsync(op, id, "no-such-hub", "iothubowner", 0, true);
        Assert.Contains("between 1 and 1000", badWeight.Error!.Message, StringComparison.Ordinal);
        Assert.False((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "bad_name!", "eastus")).Succeeded);
    }
}
