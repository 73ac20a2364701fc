using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.Arm;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Dps;

/// <summary>
/// Step 1 and 3 against an emulator whose operations take seconds (CheeseCave:Emulator:Timing = azure-like): the
/// create shows Accepted, Running, Succeeded, and the ID scope (null in Azure's create answer) is read back once the
/// operation has succeeded; an update runs as an operation too. Waits on state, never on time.
/// </summary>
public sealed class DpsLongOperationTests
{
    [Fact]
    public async Task With_azure_like_timing_the_create_shows_its_progress_and_the_id_scope_arrives_after_it_succeeded()
    {
        await using var factory = new PortalFactory { EmulatorTiming = "azure-like" };
        await factory.CreateUserAsync("slow-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("slow-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider) { PollInterval = TimeSpan.FromMilliseconds(50) };
        var id = (await wizard.Setups.CreateAsync(op, "Slow cave")).Value!.Id;

        var progress = new List<string>();
        var dps = await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "slow-dps", "eastus", new ListProgress(progress));

        Assert.True(dps.Succeeded, dps.Error?.Message);
        Assert.Contains("Accepted", progress);
        Assert.Contains("Running", progress);
        Assert.Equal("Succeeded", progress[^1]);
        Assert.Matches("^0ne[0-9A-F]{8}$", dps.Value!.IdScope);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.Equal(dps.Value.IdScope, view.IdScope);

        var policy = await wizard.Allocation.SetAllocationPolicyAsync(op, id, DpsAllocationPolicy.Static);
        Assert.True(policy.Succeeded, policy.Error?.Message);
        Assert.Equal(DpsAllocationPolicy.Static, (await wizard.Setups.GetAsync(op, id)).Value!.AllocationPolicy);
    }

    /// <summary>Records synchronously (Progress&lt;T&gt; would post to the thread pool and lose the order).</summary>
    private sealed class ListProgress(List<string> sink) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (sink) sink.Add(value);
        }
    }
}
