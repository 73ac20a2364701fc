using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Inventory;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Inventory;

[Collection(InventoryGroup.Name)]
public sealed class InventoryHandlerTests(InventoryWorld world)
{
    [Fact]
    public async Task Every_status_filter_runs_in_sql_and_agrees_with_the_status_rule()
    {
        var now = DateTimeOffset.UtcNow;
        await world.Factory.WithDbAsync(async db =>
        {
            // inv-001 active, inv-002 expiring, inv-003 expired, inv-004 revoked (and expired), inv-005 superseded by inv-006.
            var ids = world.CaveDevices;
            await db.SetupDevices.Where(d => d.Id == ids[1]).ExecuteUpdateAsync(u => u.SetProperty(d => d.NotAfter, now.AddDays(12)));
            await db.SetupDevices.Where(d => d.Id == ids[2]).ExecuteUpdateAsync(u => u.SetProperty(d => d.NotAfter, now.AddDays(-1)));
            await db.SetupDevices.Where(d => d.Id == ids[3]).ExecuteUpdateAsync(u => u.SetProperty(d => d.NotAfter, now.AddDays(-1))
                .SetProperty(d => d.RevokedAt, now).SetProperty(d => d.RevokedBy, "inv-op").SetProperty(d => d.RevocationReason, "stolen"));
            return await db.SetupDevices.Where(d => d.Id == ids[4]).ExecuteUpdateAsync(u => u.SetProperty(d => d.SupersededByDeviceId, ids[5]).SetProperty(d => d.SupersededAt, now));
        });

        var all = await world.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().ToListAsync());
        foreach (var status in Enum.GetValues<CertificateStatus>())
        {
            var page = await world.QueryAsync(new InventoryFilter { Kind = InventoryKind.Device, Status = status });
            var expected = all.Where(d => CertificateStatuses.Of(d, TimeProvider.System) == status).Select(d => d.Id).Order();
            Assert.Equal(expected, page.Items.Select(r => r.Id).Order());
            Assert.All(page.Items, r => Assert.Equal(status, r.Status));
        }

        var cave = (await world.QueryAsync(new InventoryFilter { SetupId = world.CaveId, Kind = InventoryKind.Device })).Items.ToDictionary(r => r.Name);
        Assert.Equal(
            [CertificateStatus.Active, CertificateStatus.Expiring, CertificateStatus.Expired, CertificateStatus.Revoked, CertificateStatus.Superseded, CertificateStatus.Active],
            Enumerable.Range(1, 6).Select(i => cave[$"inv-{i:000}"].Status));
        Assert.StartsWith("revoked ", cave["inv-004"].StatusNote, StringComparison.Ordinal);
        Assert.EndsWith(": stolen", cave["inv-004"].StatusNote, StringComparison.Ordinal);

        // Status sorting runs in SQL too: the worst last when ascending (revoked, superseded after expired).
        var sorted = await world.QueryAsync(new InventoryQuery(new InventoryFilter { SetupId = world.CaveId, Kind = InventoryKind.Device }, 0, 10, InventorySort.Status, IncludeDps: false));
        Assert.Equal(sorted.Items.Select(r => r.Status).Order(), sorted.Items.Select(r => r.Status));

        // "Expiring within N days": still valid and ending within N days.
        var within = await world.QueryAsync(new InventoryFilter { ExpiringWithinDays = 20 });
        Assert.Equal(["inv-002"], within.Items.Select(r => r.Name));
    }

    [Fact]
    public async Task Pages_list_cas_first_then_devices_with_nothing_missing_or_repeated()
    {
        var whole = await world.QueryAsync(InventoryFilter.None);
        var paged = new List<InventoryRow>();
        for (var skip = 0; skip < whole.TotalCount; skip += 3)
        {
            var page = await world.QueryAsync(new InventoryQuery(InventoryFilter.None, skip, 3, IncludeDps: false));
            Assert.Equal(whole.TotalCount, page.TotalCount);
            paged.AddRange(page.Items);
        }

        Assert.Equal(3 + 8, whole.TotalCount); // root + intermediate + root; 6 + 2 devices
        Assert.Equal(whole.Items.Select(r => (r.Kind, r.Id)), paged.Select(r => (r.Kind, r.Id)));
        Assert.Equal([InventoryKind.Ca, InventoryKind.Ca, InventoryKind.Ca], paged.Take(3).Select(r => r.Kind));
        Assert.All(paged.Skip(3), r => Assert.Equal(InventoryKind.Device, r.Kind));

        var byName = await world.QueryAsync(new InventoryQuery(new InventoryFilter { Kind = InventoryKind.Device }, 0, 50, InventorySort.Name, Descending: true, IncludeDps: false));
        Assert.Equal(byName.Items.Select(r => r.Name).OrderDescending(StringComparer.Ordinal), byName.Items.Select(r => r.Name));
    }

    [Fact]
    public async Task A_row_carries_the_inventory_facts_and_search_finds_it_by_id_thumbprint_or_serial()
    {
        var device = await world.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.RegistrationId == "other-002"));
        var intermediate = Assert.Single((await world.QueryAsync(new InventoryFilter { SetupId = world.CaveId, Kind = InventoryKind.Ca })).Items, r => r.CaRole == "Intermediate CA");

        var colons = string.Join(':', device.ThumbprintSha1.Chunk(2).Select(c => new string(c))).ToLowerInvariant();
        foreach (var text in new[] { "other-002", "THER-002", colons, device.ThumbprintSha256[10..30], device.SerialNumber.ToLowerInvariant() })
        {
            var found = await world.QueryAsync(new InventoryFilter { Text = text });
            Assert.Equal(["other-002"], found.Items.Select(r => r.Name));
        }

        var row = (await world.QueryAsync(new InventoryFilter { Text = "other-002" })).Items.Single();
        Assert.Equal(("invother", "CN=other-002", "ECDSA P-256", CertificateSource.PortalKey, "inv-op"), (row.SetupName, row.Subject, row.KeyType, row.Source, row.RequestedBy));
        Assert.Equal(device.Issuer, row.Issuer);
        Assert.Null(row.ApprovedBy);
        Assert.Equal($"certificates/devices/{device.Id}", row.DetailPath);
        Assert.Equal((CertificateSource.Generated, "CN=invcave Root"), (intermediate.Source, intermediate.Issuer));
        Assert.Equal("CN=invcave Intermediate", intermediate.Name);

        Assert.Empty((await world.QueryAsync(new InventoryFilter { Text = "100%_" })).Items); // LIKE wildcards are searched as text
    }

    [Fact]
    public async Task The_page_shows_where_each_device_is_in_dps_and_a_dps_that_cannot_be_read_as_one_sentence()
    {
        await using (var scope = world.Factory.Services.CreateAsyncScope())
        {
            var registered = await new SetupSlices(scope.ServiceProvider).Testing.TestRegistrationAsync(world.Operator, world.OtherId, world.OtherDevices[0], DeviceTransport.Https);
            Assert.True(registered.Value!.Assigned, registered.Value.Reason);
        }

        var page = await world.QueryAsync(new InventoryQuery(new InventoryFilter { Kind = InventoryKind.Device, SetupId = world.OtherId }, 0, 10));
        Assert.Empty(page.DpsProblems);
        var placed = page.Items.Single(r => r.Name == "other-001").Placement!;
        Assert.Equal((true, "invother-hub.azure-devices.net", "initialAssignment"), (placed.Registered, placed.AssignedHub?.Split(':')[0], placed.Substatus));
        Assert.NotNull(placed.LastRegisteredAt);
        Assert.Equal(DpsPlacement.NotRegistered, page.Items.Single(r => r.Name == "other-002").Placement);

        // The setup now names a DPS that does not exist: the page still loads, with one sentence instead of the states.
        await world.Factory.WithDbAsync(db => db.Setups.Where(s => s.Id == world.OtherId).ExecuteUpdateAsync(u => u.SetProperty(s => s.DpsName, "gone-dps")));
        try
        {
            var broken = await world.QueryAsync(new InventoryQuery(new InventoryFilter { SetupId = world.OtherId }, 0, 10));
            Assert.Equal(3, broken.TotalCount);
            Assert.StartsWith("DPS not reachable for setup \"invother\" (gone-dps): ", Assert.Single(broken.DpsProblems), StringComparison.Ordinal);
            Assert.All(broken.Items, r => Assert.Null(r.Placement));
        }
        finally
        {
            await world.Factory.WithDbAsync(db => db.Setups.Where(s => s.Id == world.OtherId).ExecuteUpdateAsync(u => u.SetProperty(s => s.DpsName, "invother-dps")));
        }
    }

    [Fact]
    public async Task A_bad_filter_is_refused_with_what_to_do_and_a_signed_out_caller_is_denied()
    {
        await using var scope = world.Factory.Services.CreateAsyncScope();
        var inventory = scope.ServiceProvider.GetRequiredService<InventoryHandler>();

        var bad = await inventory.QueryAsync(world.Viewer, new InventoryQuery(new InventoryFilter { ExpiringWithinDays = 0 }));
        var nobody = await inventory.QueryAsync(new System.Security.Claims.ClaimsPrincipal(), new InventoryQuery(InventoryFilter.None));

        Assert.Equal("\"Expiring within\" must be between 1 and 3650 days; it was 0.", bad.Error!.Message);
        Assert.Contains("30 or 90", bad.Error.WhatToDo, StringComparison.Ordinal);
        Assert.True(nobody.Error!.Denied);
    }
}
