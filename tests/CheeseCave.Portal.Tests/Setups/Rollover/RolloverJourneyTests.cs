using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Rollover;

/// <summary>A whole rollover against the embedded emulator, with real registrations before, during and after.</summary>
public sealed class RolloverJourneyTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Swapping_the_group_ca_lets_both_generations_register_until_the_old_ca_is_retired()
    {
        await factory.CreateUserAsync("ro-op", PortalRoles.Operator);
        await factory.CreateUserAsync("ro-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("ro-op");
        var viewer = await factory.PrincipalForAsync("ro-viewer");
        await using var scope = factory.Services.CreateAsyncScope();
        var driver = new RolloverDriver(scope.ServiceProvider);
        var id = await driver.ProvisionedSetupAsync(op, "rocave", "rocave-001", "rocave-002", "rocave-003");
        var oldDevices = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().Where(d => d.SetupId == id).OrderBy(d => d.RegistrationId).ToListAsync());
        Assert.True((await driver.RegisterAsync(op, id, oldDevices[0].Id)).Assigned);

        var start = await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "rocave Root 2", IntermediateSubject = "rocave Intermediate 2" });
        RolloverDriver.Ok(start);
        Assert.Equal(RolloverStage.CaCreated, (await driver.OpenAsync(viewer, id)).Stage);

        RolloverDriver.Ok(await driver.Ca.UploadNewCaAsync(op, id));
        RolloverDriver.Ok(await driver.Ca.ProveNewCaAsync(op, id));
        RolloverDriver.Ok(await driver.Groups.TrustNewCaAsync(op, id));
        var view = await driver.OpenAsync(viewer, id);
        Assert.Equal(RolloverStage.Trusted, view.Stage);
        Assert.Equal(3, view.PendingDevices);
        var group = (await driver.Wizard.Enrollment.GetEnrollmentGroupAsync(op, id)).Value!;
        Assert.Equal(view.OldCa.DpsCertificateName, group.PrimaryCa);
        Assert.Equal(view.NewCa.DpsCertificateName, group.SecondaryCa);

        // During the overlap: an old device still registers, and a device issued now comes from the new CA and registers too.
        Assert.True((await driver.RegisterAsync(op, id, oldDevices[0].Id)).Assigned);
        var fresh = (await driver.Wizard.Devices.IssueDevicesAsync(op, id, ["rocave-100"])).Value!.Devices.Single();
        var freshRow = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.Id == fresh.Id));
        Assert.Equal("CN=rocave Intermediate 2", freshRow.Issuer);
        Assert.True((await driver.RegisterAsync(op, id, fresh.Id)).Assigned);

        RolloverDriver.Refused(await driver.Groups.RetireOldCaAsync(op, id), "old CA only");
        RolloverDriver.Refused(await driver.Reissue.ReissueDevicesAsync(viewer, id), "not allowed");

        var progress = new List<string>();
        var reissued = await driver.Reissue.ReissueDevicesAsync(op, id, new Progress(progress));
        RolloverDriver.Ok(reissued);
        Assert.Equal(3, reissued.Value!.Count); // rocave-100 is already from the new CA
        Assert.Contains(progress, p => p.Contains("3 of 3", StringComparison.Ordinal));
        var devices = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().Where(d => d.SetupId == id).ToListAsync());
        foreach (var old in oldDevices)
        {
            var now = devices.Single(d => d.Id == old.Id);
            var successor = devices.Single(d => d.Id == now.SupersededByDeviceId);
            Assert.Equal(old.Id, successor.RenewsDeviceId);
            Assert.Equal(old.RegistrationId, successor.RegistrationId);
            Assert.Equal("CN=rocave Intermediate 2", successor.Issuer);
            Assert.NotNull(now.SupersededAt);
        }

        var renewed = devices.Single(d => d.RenewsDeviceId == oldDevices[1].Id);
        Assert.True((await driver.RegisterAsync(op, id, renewed.Id)).Assigned);
        Assert.True((await driver.RegisterAsync(op, id, oldDevices[1].Id)).Assigned); // the old certificate until retirement

        RolloverDriver.Ok(await driver.Groups.RetireOldCaAsync(op, id));
        RolloverDriver.Refused(await driver.Cancel.CancelRolloverAsync(op, id), "already retired");
        group = (await driver.Wizard.Enrollment.GetEnrollmentGroupAsync(op, id)).Value!;
        Assert.Equal(view.NewCa.DpsCertificateName, group.PrimaryCa);
        Assert.Null(group.SecondaryCa);
        var oldRoot = await factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().SingleAsync(c => c.Id == view.OldCa.RootId));
        Assert.NotNull(oldRoot.RetiredAt);
        Assert.Equal("ro-op", oldRoot.RetiredBy);
        Assert.False(oldRoot.IsVerified);
        var arm = driver.Wizard.Pipeline.Provisioning.CreateArmClient(op);
        var setup = (await driver.Wizard.Setups.GetAsync(op, id)).Value!;
        var inDps = await arm.ListCertificatesAsync(setup.ResourceGroup!, setup.DpsName!);
        Assert.DoesNotContain(inDps, c => c.Name == view.OldCa.DpsCertificateName);

        // After retirement: the old certificate is refused, its successor and the device issued during the overlap register.
        var refused = await driver.RegisterAsync(op, id, oldDevices[1].Id);
        Assert.False(refused.Assigned);
        Assert.True((await driver.RegisterAsync(op, id, renewed.Id)).Assigned);
        Assert.True((await driver.RegisterAsync(op, id, fresh.Id)).Assigned);

        var overview = (await driver.Reader.GetRolloverAsync(viewer, id)).Value!;
        Assert.Null(overview.Rollover);
        Assert.Equal(RolloverStage.Retired, overview.LastFinished!.Stage);
        Assert.True(overview.CanStart);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "ro-op" && a.Action == RolloverAuditActions.Retired && a.Outcome == AuditOutcomes.Succeeded)));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "ro-viewer" && a.Action == RolloverAuditActions.Reissued && a.Outcome == AuditOutcomes.Denied)));
    }

    [Fact]
    public async Task A_new_group_for_the_new_ca_replaces_the_old_group_at_retirement()
    {
        await factory.CreateUserAsync("rg-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("rg-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var driver = new RolloverDriver(scope.ServiceProvider);
        var id = await driver.ProvisionedSetupAsync(op, "rgcave", "rgcave-001");
        var old = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.SetupId == id));

        RolloverDriver.Ok(await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm
        {
            RootSubject = "rgcave Root 2",
            IntermediateSubject = "rgcave Intermediate 2",
            GroupMode = RolloverGroupMode.NewGroup,
            NewGroupId = "rgcave-devices-2",
        }));
        RolloverDriver.Ok(await driver.Ca.UploadNewCaAsync(op, id));
        RolloverDriver.Ok(await driver.Ca.ProveNewCaAsync(op, id));
        RolloverDriver.Ok(await driver.Groups.TrustNewCaAsync(op, id));
        Assert.True((await driver.RegisterAsync(op, id, old.Id)).Assigned); // the old group still takes the old generation
        var reissued = await driver.Reissue.ReissueDevicesAsync(op, id);
        RolloverDriver.Ok(reissued);
        var renewed = await factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.RenewsDeviceId == old.Id));
        Assert.True((await driver.RegisterAsync(op, id, renewed.Id)).Assigned);

        RolloverDriver.Ok(await driver.Groups.RetireOldCaAsync(op, id));
        var group = (await driver.Wizard.Enrollment.GetEnrollmentGroupAsync(op, id)).Value!;
        Assert.Equal("rgcave-devices-2", group.GroupId);
        Assert.False((await driver.RegisterAsync(op, id, old.Id)).Assigned);
        Assert.True((await driver.RegisterAsync(op, id, renewed.Id)).Assigned);
    }

    private sealed class Progress(List<string> lines) : IProgress<string>
    {
        public void Report(string value) => lines.Add(value);
    }
}
