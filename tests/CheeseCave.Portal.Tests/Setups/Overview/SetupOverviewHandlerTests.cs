using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.Arm;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Overview;

/// <summary>The overview: who may read and change a setup, and steps 1-4 against the embedded emulator, resumed from the database.</summary>
[Collection(SetupHandlersGroup.Name)]
public sealed class SetupOverviewHandlerTests(PortalFactory factory)
{
    private async Task<(AsyncServiceScope Scope, SetupSlices Service)> ServiceAsync()
    {
        var scope = factory.Services.CreateAsyncScope();
        await Task.Yield();
        return (scope, new SetupSlices(scope.ServiceProvider));
    }

    [Fact]
    public async Task A_viewer_can_read_but_cannot_change_a_setup_and_the_refusal_is_audited()
    {
        await factory.CreateUserAsync("wiz-op", PortalRoles.Operator);
        await factory.CreateUserAsync("wiz-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("wiz-op");
        var viewer = await factory.PrincipalForAsync("wiz-viewer");
        var (scope, wizard) = await ServiceAsync();
        await using var _ = scope;

        var created = await wizard.Setups.CreateAsync(op, "Viewer test cave");
        Assert.True(created.Succeeded, created.Error?.Message);
        var id = created.Value!.Id;

        var tabbed = await wizard.Setups.CreateAsync(op, "Tabbed\tcave");
        Assert.False(tabbed.Succeeded);
        Assert.Contains("a tab", tabbed.Error!.Message, StringComparison.Ordinal);
        Assert.False(await factory.WithDbAsync(db => db.Setups.AnyAsync(s => s.Name.StartsWith("Tabbed"))));

        Assert.True((await wizard.Setups.CreateAsync(viewer, "Sneaky cave")).Error!.Denied);
        Assert.True((await wizard.Setups.SetCurrentStepAsync(viewer, id, 3)).Error!.Denied);
        Assert.True((await wizard.Allocation.SetAllocationPolicyAsync(viewer, id, DpsAllocationPolicy.Static)).Error!.Denied);
        Assert.True((await wizard.Dps.CreateDpsAsync(viewer, id, "cheesecave-rg", "viewer-dps", "eastus")).Error!.Denied);

        var read = await wizard.Setups.GetAsync(viewer, id);
        Assert.True(read.Succeeded);
        Assert.False(read.Value!.CanChange);
        Assert.Contains(await wizard.Setups.ListAsync(viewer), s => s.Id == id);
        Assert.False(await factory.WithDbAsync(db => db.Setups.AnyAsync(s => s.Name == "Sneaky cave")));

        var denials = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().CountAsync(a => a.Actor == "wiz-viewer" && a.Outcome == AuditOutcomes.Denied));
        Assert.Equal(4, denials);
        var createdEntry = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().SingleAsync(a => a.Action == AuditActions.SetupCreated && a.Target!.Contains("Viewer test cave")));
        Assert.Equal("wiz-op", createdEntry.Actor);
        Assert.Equal(AuditOutcomes.Succeeded, createdEntry.Outcome);
    }

    [Fact]
    public async Task Anonymous_callers_cannot_list_setups()
    {
        var (scope, wizard) = await ServiceAsync();
        await using var _ = scope;
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => wizard.Setups.ListAsync(new System.Security.Claims.ClaimsPrincipal()));
    }

    [Fact]
    public async Task Steps_one_to_four_run_against_the_emulator_and_resume_from_the_database()
    {
        await factory.CreateUserAsync("wiz-walker", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("wiz-walker");
        var (scope, wizard) = await ServiceAsync();
        await using var _ = scope;
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);

        var id = (await wizard.Setups.CreateAsync(op, "Walk the cave")).Value!.Id;
        Assert.Equal("Walk the cave", Assert.Single(await wizard.Setups.ListAsync(op), s => s.Id == id).Name);

        // Step 1: the seeded resource group, name rules, availability, create with progress.
        var groups = await wizard.Dps.ListResourceGroupsAsync(op);
        Assert.Contains(groups.Value!, g => g.Name == "cheesecave-rg");
        Assert.False((await wizard.Dps.CheckDpsNameAsync(op, "-bad-")).Value!.IsValid);
        Assert.False((await wizard.Dps.CheckDpsNameAsync(op, "ab")).Value!.IsValid);
        Assert.True((await wizard.Dps.CheckDpsNameAsync(op, "walk-dps")).Value!.IsValid);
        var progress = new List<string>();
        var dps = await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "walk-dps", "eastus", new SyncProgress(progress));
        Assert.True(dps.Succeeded, dps.Error?.Message);
        Assert.Contains("Accepted", progress); // Azure's create answer; instant timing: the first poll says Succeeded
        Assert.Equal("Succeeded", progress[^1]);
        Assert.False(string.IsNullOrEmpty(dps.Value!.IdScope));
        var taken = await wizard.Dps.CheckDpsNameAsync(op, "walk-dps");
        Assert.False(taken.Value!.IsValid);

        // Step 2: no hub yet, create one, its usable policies (iothubowner first), link it.
        var hub = await wizard.Hubs.CreateHubAsync(op, id, "walk-hub", "eastus", new SyncProgress(progress));
        Assert.True(hub.Succeeded, hub.Error?.Message);
        var policies = (await wizard.Hubs.ListHubPoliciesAsync(op, "cheesecave-rg", "walk-hub")).Value!;
        Assert.Equal("iothubowner", policies[0].KeyName);
        Assert.All(policies, p => Assert.Contains("RegistryWrite", p.Rights, StringComparer.OrdinalIgnoreCase));
        var linked = await wizard.Hubs.LinkHubAsync(op, id, "walk-hub", "iothubowner", 3, true);
        Assert.True(linked.Succeeded, linked.Error?.Message);
        Assert.Equal(3, Assert.Single(linked.Value!.LinkedHubs).AllocationWeight);

        // Step 3: the policy is saved to the DPS.
        var policy = await wizard.Allocation.SetAllocationPolicyAsync(op, id, DpsAllocationPolicy.GeoLatency);
        Assert.True(policy.Succeeded, policy.Error?.Message);

        // Step 4 and resume: a fresh scope reads everything back, live.
        await using var other = factory.Services.CreateAsyncScope();
        var view = (await new SetupSlices(other.ServiceProvider).Setups.GetAsync(op, id)).Value!;
        Assert.Null(view.LiveError);
        Assert.Equal("walk-dps", view.DpsName);
        Assert.Equal(DpsAllocationPolicy.GeoLatency, view.AllocationPolicy);
        Assert.Equal(4, view.CurrentStep);
        Assert.Equal(dps.Value.IdScope, view.IdScope);
        Assert.False(string.IsNullOrEmpty(view.DeviceHost));
        Assert.False(string.IsNullOrEmpty(view.ServiceHost));
        Assert.All(view.Steps.Take(4), s => Assert.Equal(StepState.Done, s.State));
        Assert.Contains("walk-hub", view.StatusOf(2).Summary, StringComparison.Ordinal);

        var stored = await factory.WithDbAsync(db => db.Setups.AsNoTracking().SingleAsync(s => s.Id == id));
        Assert.Equal("wiz-walker", stored.UpdatedBy);
        Assert.Contains("walk-hub", stored.LinkedHubs, StringComparison.Ordinal);
        var actions = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Actor == "wiz-walker" && a.Outcome == AuditOutcomes.Succeeded).Select(a => a.Action).ToListAsync());
        Assert.Equal([AuditActions.SetupCreated, AuditActions.SetupDpsCreated, AuditActions.SetupHubCreated, AuditActions.SetupHubLinked, AuditActions.SetupAllocationPolicy], actions);
    }

    private sealed class SyncProgress(List<string> sink) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (sink)
            {
                sink.Add(value);
            }
        }
    }
}
