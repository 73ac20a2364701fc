using System.Net;
using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Cluster;

/// <summary>
/// Two portal instances sharing one PostgreSQL database: what one does, the other shows live (through LISTEN/NOTIFY),
/// what one runs the other refuses to run twice, what a dead one left is reported as interrupted, and the sign-in
/// limit and one-time links hold across both. Waits are on events and database state; the timeouts only bound a
/// failure.
/// </summary>
public sealed class TwoInstancesTests(ClusterPortals cluster) : IClassFixture<ClusterPortals>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid().ToString("N")[..6]}";

    [PostgreSqlFact]
    public async Task An_approval_asked_and_decided_on_one_instance_reaches_listeners_on_the_other()
    {
        var op = await ClusterPortals.UserAsync(cluster.A, Unique("cl-op-"), PortalRoles.Operator);
        var approver = await ClusterPortals.UserAsync(cluster.A, Unique("cl-ap-"), PortalRoles.Approver);
        var setupId = (await ClusterPortals.WithWizardAsync(cluster.A, w => w.Setups.CreateAsync(op, Unique("Cluster cave ")))).Value!.Id;
        var seen = new List<ApprovalChange>();
        var applied = new TaskCompletionSource<ApprovalChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = cluster.B.Services.GetRequiredService<ApprovalEvents>().Subscribe(change =>
        {
            lock (seen)
            {
                seen.Add(change);
                if (seen.Count(c => c.SetupId == setupId) == 3) applied.TrySetResult(change); // asked, approved, applied, in any order
            }

            return Task.CompletedTask;
        });

        var requestId = ApprovalTestPortal.Pending(await ClusterPortals.WithWizardAsync(cluster.A, w => w.CaGeneration.GenerateCaAsync(op, setupId, "Cluster Root", null, ProfilePreset.Recommended)));
        var decided = await ClusterPortals.WithApprovalsAsync(cluster.A, a => a.ApproveAsync(approver, requestId));
        Assert.True(decided.Succeeded, decided.Error?.Message);

        var last = await applied.Task.WaitAsync(Bound);
        Assert.Equal(requestId, last.RequestId);

        lock (seen)
        {
            // Asked, approved, applied: each once, on the instance that did none of it. Notices are hints that may be
            // handled in any order (each listener re-reads the request), so the order is not part of the contract.
            Assert.Equal([ApprovalStatus.Pending, ApprovalStatus.Approved, ApprovalStatus.Applied], seen.Where(c => c.RequestId == requestId).Select(c => c.Status).Order());
        }
    }

    [PostgreSqlFact]
    public async Task A_long_operation_runs_once_across_instances_and_the_other_shows_its_progress_and_end()
    {
        var op = await ClusterPortals.UserAsync(cluster.A, Unique("cl-dps-"), PortalRoles.Operator);
        var setupId = (await ClusterPortals.WithWizardAsync(cluster.A, w => w.Setups.CreateAsync(op, Unique("Ops cave ")))).Value!.Id;
        var onA = cluster.A.Services.GetRequiredService<SetupOperations>();
        var onB = cluster.B.Services.GetRequiredService<SetupOperations>();
        var running = new TaskCompletionSource<SetupOperationStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource<SetupOperationStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        onB.Changed += status =>
        {
            if (status.SetupId != setupId || status.Kind != SetupOperationKind.CreateDps) return;
            if (status.IsRunning) running.TrySetResult(status); else ended.TrySetResult(status);
        };

        var name = Unique("cl-dps-");
        var start = await onA.StartAsync<DpsHandler, CheeseCave.Provisioning.Arm.ProvisioningServiceInfo>(op, setupId, SetupOperationKind.CreateDps, name,
            (dps, progress, ct) => dps.CreateDpsAsync(op, setupId, "cheesecave-rg", name, "eastus", progress, ct));
        Assert.True(start.Started, start.Refused?.Message);

        var seenOnB = await running.Task.WaitAsync(Bound);
        Assert.Equal(name, seenOnB.Subject);
        Assert.Equal(op.Identity!.Name, seenOnB.StartedBy);

        // The emulator behind A takes seconds (azure-like): B refuses a second start meanwhile, naming the first.
        var second = await onB.StartAsync<DpsHandler, CheeseCave.Provisioning.Arm.ProvisioningServiceInfo>(op, setupId, SetupOperationKind.CreateDps, "other",
            (dps, progress, ct) => dps.CreateDpsAsync(op, setupId, "cheesecave-rg", "other", "eastus", progress, ct));
        Assert.False(second.Started);
        Assert.StartsWith($"A DPS is already being created for this setup (started by {op.Identity!.Name} ", second.Refused!.Message, StringComparison.Ordinal);

        var end = await ended.Task.WaitAsync(Bound);
        Assert.True(end.Succeeded, end.Error?.Message);
        Assert.Equal(end, onB.Get(setupId, SetupOperationKind.CreateDps));
        Assert.Null(onB.TakeValue<CheeseCave.Provisioning.Arm.ProvisioningServiceInfo>(setupId, SetupOperationKind.CreateDps, op)); // the value stays where it ran
    }

    [PostgreSqlFact]
    public async Task What_a_dead_instance_was_running_or_applying_is_reported_interrupted_once()
    {
        var op = await ClusterPortals.UserAsync(cluster.A, Unique("cl-dead-"), PortalRoles.Operator);
        var setupId = (await ClusterPortals.WithWizardAsync(cluster.A, w => w.Setups.CreateAsync(op, Unique("Dead cave ")))).Value!.Id;
        var requestId = ApprovalTestPortal.Pending(await ClusterPortals.WithWizardAsync(cluster.A, w => w.CaGeneration.GenerateCaAsync(op, setupId, "Orphan Root", null, ProfilePreset.Recommended)));
        var interrupted = new TaskCompletionSource<SetupOperationStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        var failed = new TaskCompletionSource<ApprovalChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.B.Services.GetRequiredService<SetupOperations>().Changed += status =>
        {
            if (status.SetupId == setupId && !status.IsRunning) interrupted.TrySetResult(status);
        };
        using var subscription = cluster.B.Services.GetRequiredService<ApprovalEvents>().Subscribe(change =>
        {
            if (change.RequestId == requestId && change.Status == ApprovalStatus.Failed) failed.TrySetResult(change);
            return Task.CompletedTask;
        });

        // An instance that beat a minute ago and never stopped cleanly (killed), with a device batch under way and an
        // approval being applied.
        var dead = "dead-" + Guid.NewGuid().ToString("N");
        var past = DateTimeOffset.UtcNow.AddMinutes(-1);
        past = new DateTimeOffset(past.UtcTicks - (past.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        await cluster.A.WithDbAsync(async db =>
        {
            db.PortalInstances.Add(new PortalInstanceRecord { Id = dead, Machine = "gone", StartedAt = past, HeartbeatAt = past });
            db.SetupOperations.Add(new SetupOperationRecord
            {
                SetupId = setupId, Kind = nameof(SetupOperationKind.IssueDevices), Subject = "3 devices", StartedBy = op.Identity!.Name!, StartedAt = past,
                Progress = "Issued 1 of 3", InstanceId = dead,
            });
            await db.SaveChangesAsync();
            return await db.ApprovalRequests.Where(r => r.Id == requestId)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, ApprovalStatus.Approved).SetProperty(r => r.ApplyingInstance, dead));
        });

        var status = await interrupted.Task.WaitAsync(Bound);
        Assert.Equal("Issuing device certificates was interrupted: the portal instance running it stopped.", status.Error!.Message);
        await failed.Task.WaitAsync(Bound);

        var request = await cluster.B.WithDbAsync(db => db.ApprovalRequests.AsNoTracking().SingleAsync(r => r.Id == requestId));
        Assert.Equal(ApprovalStatus.Failed, request.Status);
        Assert.Equal(InterruptedApprovals.Reason, request.Error);
        var audits = await cluster.B.WithDbAsync(db => db.AuditEntries.AsNoTracking()
            .Where(a => a.Action == ApprovalAuditActions.Applied && a.Target!.StartsWith($"approval #{requestId} ")).ToListAsync());
        Assert.Single(audits); // both instances sweep; one conditional update wins

        // A new batch may start now: the dead instance's claim is over.
        Assert.False((await cluster.B.WithDbAsync(db => db.SetupOperations.AsNoTracking().SingleAsync(o => o.SetupId == setupId))).EndedAt is null);
    }

    [PostgreSqlFact]
    public async Task Sign_in_attempts_count_once_across_instances()
    {
        using var clientA = cluster.A.CreatePortalClient();
        using var clientB = cluster.B.CreatePortalClient();
        var tokenA = await Forms.AntiforgeryTokenAsync(clientA, "/account/login");
        var tokenB = await Forms.AntiforgeryTokenAsync(clientB, "/account/login");
        var user = Unique("spray-");

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var allowed = attempt % 2 == 1
                ? await Forms.PostSignInAsync(clientA, tokenA, user, "wrong " + attempt)
                : await Forms.PostSignInAsync(clientB, tokenB, user, "wrong " + attempt);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        // Five tries spread over two instances are five tries: the sixth is refused on either.
        using var limited = await Forms.PostSignInAsync(clientB, tokenB, user, "wrong 6");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(SignInRateLimiting.RejectionMessage, await limited.Content.ReadAsStringAsync());
        using var alsoLimited = await Forms.PostSignInAsync(clientA, tokenA, user, "wrong 7");
        Assert.Equal(HttpStatusCode.TooManyRequests, alsoLimited.StatusCode);
    }

    [PostgreSqlFact]
    public async Task An_invitation_accepted_on_both_instances_at_once_makes_one_user()
    {
        var admin = await ClusterPortals.UserAsync(cluster.A, Unique("cl-admin-"), PortalRoles.Administrator);
        var name = Unique("cl-joiner-");
        var invitation = await cluster.A.Services.GetRequiredService<UserAdministration>().CreateInvitationAsync(admin, name, PortalRoles.Viewer);
        Assert.True(invitation.Result.Succeeded);

        using var start = new Barrier(2);
        var results = await Task.WhenAll(
            Task.Run(() => { start.SignalAndWait(); return cluster.A.Services.GetRequiredService<AccountOnboarding>().AcceptInvitationAsync(invitation.Invitation!.Token, TestPasswords.Default); }),
            Task.Run(() => { start.SignalAndWait(); return cluster.B.Services.GetRequiredService<AccountOnboarding>().AcceptInvitationAsync(invitation.Invitation!.Token, TestPasswords.Default); }));

        Assert.Single(results, r => r.Succeeded);
        Assert.Equal(1, await cluster.B.WithDbAsync(db => db.Users.CountAsync(u => u.UserName == name)));
    }
}
