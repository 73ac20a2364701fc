using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Rollover;

/// <summary>Cancelling an open rollover undoes what is safe to undo; the old generation registers as before.</summary>
public sealed class RolloverCancelTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Cancelling_after_the_re_issue_takes_the_new_ca_out_of_the_group_and_the_dps_and_gives_the_old_certificates_back()
    {
        await factory.CreateUserAsync("rc-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("rc-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var driver = new RolloverDriver(scope.ServiceProvider);
        var id = await driver.ProvisionedSetupAsync(op, "rccave", "rccave-001");
        var old = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.SetupId == id));
        await driver.ToOverlapAsync(op, id, new RolloverStartForm { RootSubject = "rccave Root 2", IntermediateSubject = "rccave Intermediate 2" });
        RolloverDriver.Ok(await driver.Reissue.ReissueDevicesAsync(op, id));
        var view = await driver.OpenAsync(op, id);
        var successor = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.RenewsDeviceId == old.Id));
        Assert.True((await driver.RegisterAsync(op, id, successor.Id)).Assigned);

        RolloverDriver.Ok(await driver.Cancel.CancelRolloverAsync(op, id));

        var group = (await driver.Wizard.Enrollment.GetEnrollmentGroupAsync(op, id)).Value!;
        Assert.Equal(view.OldCa.DpsCertificateName, group.PrimaryCa);
        Assert.Null(group.SecondaryCa);
        var setup = (await driver.Wizard.Setups.GetAsync(op, id)).Value!;
        Assert.Equal(view.OldCa.RootId, setup.Root!.Id);
        var inDps = await driver.Wizard.Pipeline.Provisioning.CreateArmClient(op).ListCertificatesAsync(setup.ResourceGroup!, setup.DpsName!);
        Assert.DoesNotContain(inDps, c => c.Name == view.NewCa.DpsCertificateName);
        Assert.Contains(inDps, c => c.Name == view.OldCa.DpsCertificateName && c.IsVerified);

        // The old certificate is the active one again and registers; its successor's CA is gone, so it is refused.
        var rows = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().Where(d => d.SetupId == id).ToListAsync());
        Assert.Null(rows.Single(d => d.Id == old.Id).SupersededByDeviceId);
        Assert.Equal(old.Id, rows.Single(d => d.Id == successor.Id).SupersededByDeviceId);
        Assert.True((await driver.RegisterAsync(op, id, old.Id)).Assigned);
        Assert.False((await driver.RegisterAsync(op, id, successor.Id)).Assigned);
        var newRoot = await factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().SingleAsync(c => c.Id == view.NewCa.RootId));
        Assert.NotNull(newRoot.RetiredAt);
        Assert.False(newRoot.IsVerified);

        var overview = (await driver.Reader.GetRolloverAsync(op, id)).Value!;
        Assert.Null(overview.Rollover);
        Assert.Equal("rc-op", overview.LastFinished!.CancelledBy);
        Assert.True(overview.CanStart);
        RolloverDriver.Refused(await driver.Groups.RetireOldCaAsync(op, id), "no open rollover");
        RolloverDriver.Refused(await driver.Cancel.CancelRolloverAsync(op, id), "already cancelled");
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "rc-op" && a.Action == RolloverAuditActions.Cancelled && a.Outcome == AuditOutcomes.Succeeded)));

        // A new rollover can start after a cancelled one, and devices are signed by the old CA meanwhile.
        var fresh = (await driver.Wizard.Devices.IssueDevicesAsync(op, id, ["rccave-002"])).Value!.Devices.Single();
        Assert.True((await driver.RegisterAsync(op, id, fresh.Id)).Assigned);
        RolloverDriver.Ok(await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "rccave Root 3" }));
    }

    [Fact]
    public async Task Cancelling_a_new_group_rollover_deletes_the_extra_group_and_a_retired_rollover_cannot_be_cancelled()
    {
        await factory.CreateUserAsync("rn-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("rn-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var driver = new RolloverDriver(scope.ServiceProvider);
        var id = await driver.ProvisionedSetupAsync(op, "rncave", "rncave-001");
        var old = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.SetupId == id));
        var form = new RolloverStartForm { RootSubject = "rncave Root 2", GroupMode = RolloverGroupMode.NewGroup, NewGroupId = "rncave-devices-2" };
        await driver.ToOverlapAsync(op, id, form);
        var setup = (await driver.Wizard.Setups.GetAsync(op, id)).Value!;
        var arm = driver.Wizard.Pipeline.Provisioning.CreateArmClient(op);
        using (var service = await driver.Wizard.Pipeline.DpsServiceAsync(op, arm, setup.ResourceGroup!, setup.DpsName!, CancellationToken.None))
        {
            Assert.NotNull(await service.GetEnrollmentGroupAsync("rncave-devices-2"));
        }

        RolloverDriver.Ok(await driver.Cancel.CancelRolloverAsync(op, id));
        using (var service = await driver.Wizard.Pipeline.DpsServiceAsync(op, arm, setup.ResourceGroup!, setup.DpsName!, CancellationToken.None))
        {
            Assert.Null(await service.GetEnrollmentGroupAsync("rncave-devices-2"));
        }

        Assert.Equal("rncave-devices", (await driver.Wizard.Enrollment.GetEnrollmentGroupAsync(op, id)).Value!.GroupId);
        Assert.True((await driver.RegisterAsync(op, id, old.Id)).Assigned);

        // Once the old CA is retired there is nothing safe to go back to.
        await driver.ToOverlapAsync(op, id, new RolloverStartForm { RootSubject = "rncave Root 3" });
        RolloverDriver.Ok(await driver.Reissue.ReissueDevicesAsync(op, id));
        RolloverDriver.Ok(await driver.Groups.RetireOldCaAsync(op, id));
        RolloverDriver.Refused(await driver.Cancel.CancelRolloverAsync(op, id), "already retired");
    }
}
