using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Tests.Setups.Rollover;

/// <summary>A restart in the middle of a rollover: it resumes at the right step, and a step cut off is said and can be redone.</summary>
public sealed class RolloverRestartTests
{
    [Fact]
    public async Task A_rollover_interrupted_by_a_restart_resumes_at_its_step_and_says_which_step_was_cut_off()
    {
        var data = Path.Combine(Path.GetTempPath(), "cheesecave-rollover-restart-" + Guid.NewGuid().ToString("N"));
        int id;
        await using (var first = new PortalFactory { DataDirectory = data, KeepData = true })
        {
            await first.CreateUserAsync("rs-op", PortalRoles.Operator);
            var op = await first.PrincipalForAsync("rs-op");
            await using var scope = first.Services.CreateAsyncScope();
            var driver = new RolloverDriver(scope.ServiceProvider);
            id = await driver.ProvisionedSetupAsync(op, "rscave", "rscave-001");
            RolloverDriver.Ok(await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "rscave Root 2", IntermediateSubject = "rscave Intermediate 2" }));
            RolloverDriver.Ok(await driver.Ca.UploadNewCaAsync(op, id));

            // The portal stops while proof of possession runs: the step's mark was saved, nothing after it.
            await first.WithDbAsync(async db => await db.CaRollovers.Where(r => r.SetupId == id)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.RunningStep, nameof(RolloverStep.Prove)).SetProperty(r => r.RunningSince, DateTimeOffset.UtcNow)));
        }

        await using var second = new PortalFactory { DataDirectory = data };
        var again = await second.PrincipalForAsync("rs-op");
        await using var after = second.Services.CreateAsyncScope();
        var resumed = new RolloverDriver(after.ServiceProvider);
        var view = await resumed.OpenAsync(again, id);
        Assert.Equal(RolloverStage.Uploaded, view.Stage);
        Assert.Equal(RolloverStep.Prove, view.Next);
        Assert.False(view.IsRunning);
        Assert.Contains("was interrupted", view.Interrupted, StringComparison.Ordinal);
        Assert.Contains("running it again is safe", view.Interrupted, StringComparison.Ordinal);
        RolloverDriver.Refused(await resumed.Groups.RetireOldCaAsync(again, id), "not verified");

        RolloverDriver.Ok(await resumed.Ca.ProveNewCaAsync(again, id));
        Assert.Null((await resumed.OpenAsync(again, id)).Interrupted);
        RolloverDriver.Ok(await resumed.Groups.TrustNewCaAsync(again, id));
        var reissued = await resumed.Reissue.ReissueDevicesAsync(again, id);
        RolloverDriver.Ok(reissued);
        var renewed = await second.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.SetupId == id && d.RenewsDeviceId != null));
        Assert.True((await resumed.RegisterAsync(again, id, renewed.Id)).Assigned);
        RolloverDriver.Ok(await resumed.Groups.RetireOldCaAsync(again, id));
        Assert.Null((await resumed.Reader.GetRolloverAsync(again, id)).Value!.Rollover);
    }

    [Fact]
    public async Task The_portal_stopped_while_a_step_waits_on_the_dps_resumes_at_that_step_with_nothing_changed()
    {
        var data = Path.Combine(Path.GetTempPath(), "cheesecave-rollover-stop-" + Guid.NewGuid().ToString("N"));
        int id;
        string oldName;
        Task? cutOff = null;
        await using (var first = new PortalFactory { DataDirectory = data, KeepData = true })
        {
            await first.CreateUserAsync("rt-op", PortalRoles.Operator);
            var op = await first.PrincipalForAsync("rt-op");
            var scope = first.Services.CreateAsyncScope();
            var driver = new RolloverDriver(scope.ServiceProvider);
            id = await driver.ProvisionedSetupAsync(op, "rtcave", "rtcave-001");
            RolloverDriver.Ok(await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "rtcave Root 2" }));
            RolloverDriver.Ok(await driver.Ca.UploadNewCaAsync(op, id));
            RolloverDriver.Ok(await driver.Ca.ProveNewCaAsync(op, id));
            oldName = (await driver.OpenAsync(op, id)).OldCa.DpsCertificateName!;

            // From now on the emulator's DPS service API answers only after a minute (its fault injection): the trust
            // step marks itself running, reads the group and waits; the portal is stopped meanwhile.
            first.Services.GetRequiredService<IOptions<CheeseCaveOptions>>().Value.Emulator.Faults.Service.AddedLatencyMs = 60_000;
            cutOff = driver.Groups.TrustNewCaAsync(op, id).ContinueWith(_ => scope.DisposeAsync().AsTask(), TaskScheduler.Default).Unwrap();
            while (await first.WithDbAsync(db => db.CaRollovers.AsNoTracking().Where(r => r.SetupId == id).Select(r => r.RunningStep).SingleAsync()) != nameof(RolloverStep.Trust))
            {
                Assert.False(cutOff.IsCompleted, "the trust step ended before the portal was stopped");
                await Task.Delay(25);
            }
        }

        // The step's own end (it fails once its DPS call is cut off with the server) is no part of what is tested.
        await Task.WhenAny(cutOff!, Task.Delay(TimeSpan.FromMinutes(2)));

        await using var second = new PortalFactory { DataDirectory = data };
        var again = await second.PrincipalForAsync("rt-op");
        await using var after = second.Services.CreateAsyncScope();
        var resumed = new RolloverDriver(after.ServiceProvider);
        var view = await resumed.OpenAsync(again, id);
        Assert.Equal(RolloverStage.Verified, view.Stage);
        Assert.Equal(RolloverStep.Trust, view.Next);
        Assert.False(view.IsRunning);
        if (view.Interrupted is { } sentence)
        {
            Assert.Contains("was interrupted", sentence, StringComparison.Ordinal);
        }

        // Nothing reached the DPS: the group still trusts the old CA alone.
        var group = (await resumed.Wizard.Enrollment.GetEnrollmentGroupAsync(again, id)).Value!;
        Assert.Equal(oldName, group.PrimaryCa);
        Assert.Null(group.SecondaryCa);

        RolloverDriver.Ok(await resumed.Groups.TrustNewCaAsync(again, id));
        Assert.Null((await resumed.OpenAsync(again, id)).Interrupted);
        Assert.Equal(view.NewCa.DpsCertificateName, (await resumed.Wizard.Enrollment.GetEnrollmentGroupAsync(again, id)).Value!.SecondaryCa);
    }
}
