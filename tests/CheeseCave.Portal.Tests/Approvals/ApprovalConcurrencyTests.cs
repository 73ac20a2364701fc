using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Tests.Approvals;

/// <summary>
/// Two approvers click at the same moment: real concurrent calls, each in its own DI scope with its own database
/// connections, against the real SQLite file. The request must be applied exactly once.
/// </summary>
public sealed class ApprovalConcurrencyTests(ApprovalTestPortal portal) : IClassFixture<ApprovalTestPortal>
{
    private const int Rounds = 6;

    [Fact]
    public async Task Two_approvers_approving_at_the_same_time_apply_the_request_once()
    {
        var op = await portal.UserAsync("race-op", PortalRoles.Operator);
        var first = await portal.UserAsync("race-a", PortalRoles.Approver);
        var second = await portal.UserAsync("race-b", PortalRoles.Administrator);
        var bothDecided = 0;

        for (var round = 0; round < Rounds; round++)
        {
            var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, $"Race cave {round}"))).Value!.Id;
            var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, $"Race Root {round}", null, ProfilePreset.Recommended)));

            using var start = new Barrier(2);
            var results = await Task.WhenAll(
                Task.Run(() => { start.SignalAndWait(); return portal.WithApprovalsAsync(a => a.ApproveAsync(first, requestId)); }),
                Task.Run(() => { start.SignalAndWait(); return portal.WithApprovalsAsync(a => a.ApproveAsync(second, requestId)); }));

            // Whoever came second either approved too (its call found the request already claimed) or was told it
            // was decided a moment ago; never an error of another kind. Either way it was applied exactly once.
            Assert.Contains(results, r => r.Succeeded);
            bothDecided += await portal.Factory.WithDbAsync(db => db.ApprovalDecisions.CountAsync(d => d.RequestId == requestId)) == 2 ? 1 : 0;
            Assert.All(results.Where(r => !r.Succeeded), r => Assert.Contains("no longer waiting", r.Error!.Message, StringComparison.Ordinal));
            Assert.Equal(ApprovalStatus.Applied, await portal.Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).Select(r => r.Status).SingleAsync()));
            Assert.Equal(1, await portal.Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));
            Assert.Equal(1, await portal.Factory.WithDbAsync(db => db.ProtectedKeys.CountAsync(k => k.KeyId.StartsWith($"setup-{setupId}/"))));
            var audit = await portal.Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Action == ApprovalAuditActions.Applied || a.Action == AuditActions.SetupCaGenerated).ToListAsync());
            Assert.Single(audit, a => a.Action == ApprovalAuditActions.Applied && a.Target!.StartsWith($"approval #{requestId} ", StringComparison.Ordinal));
            Assert.Single(audit, a => a.Action == AuditActions.SetupCaGenerated && a.Target == $"setup {setupId} \"Race cave {round}\"" && a.Outcome == AuditOutcomes.Succeeded);
        }

        // The race was real: in at least one round both decisions were in before either call claimed the request
        // (observed: every round), so "applied once" rests on the atomic claim, not on timing.
        Assert.True(bothDecided > 0, $"both approvals recorded before the claim in {bothDecided} of {Rounds} rounds");
    }

    [Fact]
    public async Task One_approver_clicking_twice_at_once_counts_once_and_applies_once()
    {
        var op = await portal.UserAsync("race2-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("race2-a", PortalRoles.Approver);

        for (var round = 0; round < Rounds; round++)
        {
            var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, $"Double click cave {round}"))).Value!.Id;
            // The CA comes first (approved outside the race), so issuing can succeed.
            var caId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, $"Double Root {round}", null, ProfilePreset.Recommended)));
            await portal.ApproveAppliedAsync(approver, caId);
            var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.Devices.IssueDevicesAsync(op, setupId, [$"race-{round}-001"])));

            using var start = new Barrier(2);
            var results = await Task.WhenAll(
                Task.Run(() => { start.SignalAndWait(); return portal.WithApprovalsAsync(a => a.ApproveAsync(approver, requestId)); }),
                Task.Run(() => { start.SignalAndWait(); return portal.WithApprovalsAsync(a => a.ApproveAsync(approver, requestId)); }));

            Assert.Single(results, r => r.Succeeded);
            Assert.Matches("already approved|no longer waiting", Assert.Single(results, r => !r.Succeeded).Error!.Message);
            Assert.Equal(1, await portal.Factory.WithDbAsync(db => db.ApprovalDecisions.CountAsync(d => d.RequestId == requestId)));
            Assert.Equal(1, await portal.Factory.WithDbAsync(db => db.SetupDevices.CountAsync(d => d.SetupId == setupId)));
            Assert.Equal(ApprovalStatus.Applied, await portal.Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).Select(r => r.Status).SingleAsync()));
        }
    }
}
