using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Rollover;

/// <summary>
/// Re-issued keys live only in memory: a restart between recording the successors and the step's final save (or inside
/// the download window) must not leave certificates silently without keys. The re-issue also runs apart from the page.
/// </summary>
public sealed class RolloverLostKeysTests
{
    [Fact]
    public async Task A_restart_before_the_re_issue_was_handed_out_names_the_batch_blocks_retiring_and_re_issues_its_devices_again()
    {
        var data = Path.Combine(Path.GetTempPath(), "cheesecave-rollover-keys-" + Guid.NewGuid().ToString("N"));
        int id;
        string batchId;
        await using (var first = new PortalFactory { DataDirectory = data, KeepData = true })
        {
            await first.CreateUserAsync("rk-op", PortalRoles.Operator);
            var op = await first.PrincipalForAsync("rk-op");
            await using var scope = first.Services.CreateAsyncScope();
            var driver = new RolloverDriver(scope.ServiceProvider);
            id = await driver.ProvisionedSetupAsync(op, "rkcave", "rkcave-001", "rkcave-002");
            await driver.ToOverlapAsync(op, id, new RolloverStartForm { RootSubject = "rkcave Root 2", IntermediateSubject = "rkcave Intermediate 2" });
            var reissued = await driver.Reissue.ReissueDevicesAsync(op, id);
            RolloverDriver.Ok(reissued);
            batchId = reissued.Value!.Batches.Single().BatchId;
            var batch = await first.WithDbAsync(db => db.RolloverBatches.AsNoTracking().SingleAsync(b => b.BatchId == batchId));
            Assert.NotNull(batch.KeysKeptUntil);

            // The portal stops after the re-issue's transaction committed and before the pipeline's final save: the
            // batch is recorded, its keys were never handed out.
            await first.WithDbAsync(db => db.RolloverBatches.Where(b => b.BatchId == batchId).ExecuteUpdateAsync(s => s.SetProperty(b => b.KeysKeptUntil, (DateTimeOffset?)null)));
        }

        await using (var second = new PortalFactory { DataDirectory = data, KeepData = true })
        {
            var op = await second.PrincipalForAsync("rk-op");
            await using var scope = second.Services.CreateAsyncScope();
            var driver = new RolloverDriver(scope.ServiceProvider);
            var view = await driver.OpenAsync(op, id);
            Assert.Equal(RolloverStage.Reissued, view.Stage);
            var lost = Assert.Single(view.LostBatches);
            Assert.Equal(batchId, lost.BatchId);
            Assert.True(lost.NeverHandedOut);
            Assert.Equal(2, lost.Keyless);
            Assert.Contains("were lost", lost.Sentence, StringComparison.Ordinal);
            Assert.True(await second.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == RolloverAuditActions.KeysLost && a.Target!.Contains(batchId))));
            RolloverDriver.Refused(await driver.Groups.RetireOldCaAsync(op, id), "were lost");

            var again = await driver.Reissue.ReissueLostBatchAsync(op, id, batchId);
            RolloverDriver.Ok(again);
            Assert.Equal(2, again.Value!.Count);
            RolloverDriver.Refused(await driver.Reissue.ReissueLostBatchAsync(op, id, batchId), "already re-issued again");
            view = await driver.OpenAsync(op, id);
            Assert.Empty(view.LostBatches);
            Assert.Equal(RolloverStage.Reissued, view.Stage);

            // The keyless certificates are superseded by the new ones, which register; the rollover can now finish.
            var rows = await second.WithDbAsync(db => db.SetupDevices.AsNoTracking().Where(d => d.SetupId == id).ToListAsync());
            foreach (var keyless in rows.Where(d => d.BatchId == batchId))
            {
                var newest = rows.Single(d => d.Id == keyless.SupersededByDeviceId);
                Assert.Equal(keyless.Id, newest.RenewsDeviceId);
                Assert.Equal(keyless.RegistrationId, newest.RegistrationId);
                Assert.True((await driver.RegisterAsync(op, id, newest.Id)).Assigned);
            }
        }

        // A restart inside the new batch's download window: said too (the keys may have been downloaded), not blocking.
        await using var third = new PortalFactory { DataDirectory = data };
        var user = await third.PrincipalForAsync("rk-op");
        await using var last = third.Services.CreateAsyncScope();
        var resumed = new RolloverDriver(last.ServiceProvider);
        var window = Assert.Single((await resumed.OpenAsync(user, id)).LostBatches);
        Assert.False(window.NeverHandedOut);
        Assert.Contains("unless they were downloaded", window.Sentence, StringComparison.Ordinal);
        RolloverDriver.Ok(await resumed.Groups.RetireOldCaAsync(user, id));
    }

    [Fact]
    public async Task The_re_issue_runs_apart_from_the_page_that_started_it_and_hands_its_password_to_its_starter_only()
    {
        await using var factory = new PortalFactory();
        await factory.CreateUserAsync("rb-op", PortalRoles.Operator);
        await factory.CreateUserAsync("rb-op2", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("rb-op");
        var other = await factory.PrincipalForAsync("rb-op2");
        int id;
        await using (var page = factory.Services.CreateAsyncScope())
        {
            var driver = new RolloverDriver(page.ServiceProvider);
            id = await driver.ProvisionedSetupAsync(op, "rbcave", "rbcave-001", "rbcave-002", "rbcave-003");
            await driver.ToOverlapAsync(op, id, new RolloverStartForm { RootSubject = "rbcave Root 2" });
        }

        // Started like the page does, and the page's scope is gone at once: the operation has a scope of its own.
        var operations = factory.Services.GetRequiredService<SetupOperations>();
        var progress = new List<string>();
        operations.Changed += status => { if (status.Kind == SetupOperationKind.RolloverReissue && status.Progress is { } line) { lock (progress) { progress.Add(line); } } };
        var start = await operations.StartAsync<RolloverReissue, RolloverReissueView>(op, id, SetupOperationKind.RolloverReissue, "3 device(s)", (h, p, ct) => h.ReissueDevicesAsync(op, id, p, ct));
        Assert.True(start.Started);
        Assert.False((await operations.StartAsync<RolloverReissue, RolloverReissueView>(op, id, SetupOperationKind.RolloverReissue, "again", (h, p, ct) => h.ReissueDevicesAsync(op, id, p, ct))).Started);
        await operations.WhenIdleAsync();

        var status = operations.Get(id, SetupOperationKind.RolloverReissue)!;
        Assert.True(status.Succeeded, status.Error?.Message);
        lock (progress)
        {
            Assert.Contains(progress, p => p.Contains("3 of 3", StringComparison.Ordinal));
        }

        Assert.Null(operations.TakeValue<RolloverReissueView>(id, SetupOperationKind.RolloverReissue, other));
        var value = operations.TakeValue<RolloverReissueView>(id, SetupOperationKind.RolloverReissue, op);
        Assert.Equal(3, value!.Count);
        Assert.False(string.IsNullOrEmpty(value.PfxPassword));
        Assert.Null(operations.TakeValue<RolloverReissueView>(id, SetupOperationKind.RolloverReissue, op)); // once
        await using var scope = factory.Services.CreateAsyncScope();
        Assert.Equal(RolloverStage.Reissued, (await new RolloverDriver(scope.ServiceProvider).OpenAsync(op, id)).Stage);
    }
}
