using System.Security.Claims;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Inventory;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Inventory;

/// <summary>
/// One portal with two verified setups: "invcave" (root + intermediate, six devices) and "invother" (root, two devices),
/// and a Viewer to read them. Tests change statuses and dates in the database as renewals, revocations and time would.
/// </summary>
public sealed class InventoryWorld : IAsyncLifetime
{
    public PortalFactory Factory { get; } = new();

    public ClaimsPrincipal Operator { get; private set; } = new();

    public ClaimsPrincipal Viewer { get; private set; } = new();

    public int CaveId { get; private set; }

    public int OtherId { get; private set; }

    public IReadOnlyList<int> CaveDevices { get; private set; } = [];

    public IReadOnlyList<int> OtherDevices { get; private set; } = [];

    public async Task InitializeAsync()
    {
        await Factory.CreateUserAsync("inv-op", PortalRoles.Operator);
        await Factory.CreateUserAsync("inv-viewer", PortalRoles.Viewer);
        Operator = await Factory.PrincipalForAsync("inv-op");
        Viewer = await Factory.PrincipalForAsync("inv-viewer");
        await using var scope = Factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        CaveId = await SetupSteps.VerifiedSetupAsync(wizard, Operator, "invcave", intermediate: true);
        OtherId = await SetupSteps.VerifiedSetupAsync(wizard, Operator, "invother");
        var root = (await wizard.Setups.GetAsync(Operator, OtherId)).Value!.Root!;
        var group = await wizard.Enrollment.SaveEnrollmentGroupAsync(Operator, OtherId, new EnrollmentGroupForm { GroupId = "invother-devices", PrimaryCa = root.DpsCertificateName!, Enabled = true });
        Assert.True(group.Succeeded, group.Error?.Message);
        CaveDevices = [.. (await wizard.Devices.IssueDevicesAsync(Operator, CaveId, [.. Enumerable.Range(1, 6).Select(i => $"inv-{i:000}")])).Value!.Devices.Select(d => d.Id)];
        OtherDevices = [.. (await wizard.Devices.IssueDevicesAsync(Operator, OtherId, ["other-001", "other-002"])).Value!.Devices.Select(d => d.Id)];
    }

    public Task DisposeAsync() => Factory.DisposeAsync().AsTask();

    public async Task<InventoryPage> QueryAsync(InventoryQuery query, ClaimsPrincipal? caller = null)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<InventoryHandler>().QueryAsync(caller ?? Viewer, query);
        Assert.True(result.Succeeded, result.Error?.Message);
        return result.Value!;
    }

    public Task<InventoryPage> QueryAsync(InventoryFilter filter, int take = 200) => QueryAsync(new InventoryQuery(filter, 0, take, IncludeDps: false));
}

[CollectionDefinition(Name)]
public sealed class InventoryGroup : ICollectionFixture<InventoryWorld>
{
    public const string Name = "Certificate inventory";
}
