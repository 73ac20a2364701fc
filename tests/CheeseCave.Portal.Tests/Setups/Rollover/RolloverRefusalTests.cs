using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Rollover;

/// <summary>Bad input and steps out of order: one clear sentence each, and nothing changed.</summary>
public sealed class RolloverRefusalTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Steps_out_of_order_a_second_start_and_a_reused_ca_name_are_refused_with_one_sentence()
    {
        await factory.CreateUserAsync("rr-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("rr-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var driver = new RolloverDriver(scope.ServiceProvider);
        var bare = (await driver.Wizard.Setups.CreateAsync(op, "rrbare")).Value!.Id;
        RolloverDriver.Refused(await driver.Start.StartRolloverAsync(op, bare, new RolloverStartForm { RootSubject = "rrbare Root 2" }), "nothing to roll over");

        var id = await driver.ProvisionedSetupAsync(op, "rrcave", "rrcave-001");
        RolloverDriver.Refused(await driver.Groups.RetireOldCaAsync(op, id), "no open rollover");
        RolloverDriver.Refused(await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "rrcave Root" }), "already has");
        RolloverDriver.Refused(await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "RRCAVE INTERMEDIATE" }), "already has");
        RolloverDriver.Refused(await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "rrcave Root 2", GroupMode = RolloverGroupMode.NewGroup, NewGroupId = "rrcave-devices" }), "id of the existing one");
        RolloverDriver.Refused(await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "rrcave Root 2", GroupMode = RolloverGroupMode.NewGroup, NewGroupId = "bad id!" }), "enrollment group id");
        Assert.Equal(2, await factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == id))); // nothing was created

        RolloverDriver.Ok(await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "rrcave Root 2" }));
        RolloverDriver.Refused(await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "rrcave Root 3" }), "already under way");
        Assert.Equal(1, await factory.WithDbAsync(db => db.CaRollovers.CountAsync(r => r.SetupId == id)));

        RolloverDriver.Refused(await driver.Groups.RetireOldCaAsync(op, id), "not verified");
        RolloverDriver.Refused(await driver.Groups.TrustNewCaAsync(op, id), "cannot run yet");
        RolloverDriver.Refused(await driver.Reissue.ReissueDevicesAsync(op, id), "cannot run yet");
        RolloverDriver.Ok(await driver.Ca.UploadNewCaAsync(op, id));
        RolloverDriver.Refused(await driver.Ca.UploadNewCaAsync(op, id), "already done");
        RolloverDriver.Ok(await driver.Ca.ProveNewCaAsync(op, id));
        RolloverDriver.Refused(await driver.Groups.RetireOldCaAsync(op, id), "does not trust the new CA");

        // Nothing moved: the old CA is still the setup's, the group still trusts it alone, the devices are untouched.
        var view = await driver.OpenAsync(op, id);
        Assert.Equal(RolloverStage.Verified, view.Stage);
        Assert.Null(view.Interrupted);
        var group = (await driver.Wizard.Enrollment.GetEnrollmentGroupAsync(op, id)).Value!;
        Assert.Equal(view.OldCa.DpsCertificateName, group.PrimaryCa);
        Assert.Null(group.SecondaryCa);
        Assert.Equal(view.OldCa.RootId, (await driver.Wizard.Setups.GetAsync(op, id)).Value!.Root!.Id);
        Assert.Equal(1, await factory.WithDbAsync(db => db.SetupDevices.CountAsync(d => d.SetupId == id && d.SupersededByDeviceId == null)));
    }
}
