using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Hubs;

/// <summary>Step 2: a hub is linked only with a policy that has the rights DPS needs.</summary>
[Collection(SetupHandlersGroup.Name)]
public sealed class HubsHandlerTests(PortalFactory factory)
{
    private async Task<(AsyncServiceScope Scope, SetupSlices Service)> ServiceAsync()
    {
        var scope = factory.Services.CreateAsyncScope();
        await Task.Yield();
        return (scope, new SetupSlices(scope.ServiceProvider));
    }

    [Fact]
    public async Task A_policy_without_the_needed_rights_is_refused_and_the_failure_is_audited()
    {
        await factory.CreateUserAsync("wiz-linker", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("wiz-linker");
        var (scope, wizard) = await ServiceAsync();
        await using var _ = scope;
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.Setups.CreateAsync(op, "Refused link")).Value!.Id;
        Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "refused-dps", "eastus")).Succeeded);
        Assert.True((await wizard.Hubs.CreateHubAsync(op, id, "refused-hub", "eastus")).Succeeded);

        var result = await wizard.Hubs.LinkHubAsync(op, id, "refused-hub", "registryRead", 1, true);
        Assert.False(result.Succeeded);
        Assert.Contains("RegistryWrite", result.Error!.Message, StringComparison.Ordinal);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "wiz-linker" && a.Action == AuditActions.SetupHubLinked && a.Outcome == AuditOutcomes.Failed)));
    }
}
