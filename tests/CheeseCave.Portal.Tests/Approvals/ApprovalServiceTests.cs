using System.Net;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Approvals;

/// <summary>Four eyes through the real services, the real SQLite database and the embedded emulator: who may decide what, and when.</summary>
[Collection(ApprovalServiceGroup.Name)]
public sealed class ApprovalServiceTests(ApprovalTestPortal portal)
{
    private PortalFactory Factory => portal.Factory;

    [Fact]
    public async Task A_gated_CA_is_only_a_request_until_another_approver_approves_it_then_it_is_applied_and_attributed()
    {
        var op = await portal.UserAsync("ap-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("ap-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Approved cave"))).Value!.Id;

        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Approved Cave Root", "Approved Cave Intermediate", ProfilePreset.Recommended)));
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));

        // What the approver sees: plain terms computed at request time.
        var request = (await portal.WithApprovalsAsync(a => a.GetAsync(approver, requestId))).Value!;
        Assert.Equal(ApprovalStatus.Pending, request.Status);
        Assert.Equal("ap-op", request.RequestedBy);
        Assert.Contains("Approved Cave Root", request.Title, StringComparison.Ordinal);
        Assert.Contains(request.Facts, f => f.Label == "Root CA subject" && f.Value == "CN=Approved Cave Root");
        Assert.Contains(request.Facts, f => f.Label == "Key type" && f.Value == "ECDSA P-256");
        Assert.Contains(request.Facts, f => f.Label == "Validity" && f.Value.Contains("3653 days", StringComparison.Ordinal));
        Assert.True(request.CallerMayDecide);
        Assert.InRange(request.ExpiresAt - request.RequestedAt, TimeSpan.FromDays(3) - TimeSpan.FromSeconds(1), TimeSpan.FromDays(3) + TimeSpan.FromSeconds(1));
        Assert.Contains(await portal.WithApprovalsAsync(a => a.ListAsync(approver, ApprovalFilter.Pending)) is { Value: { } pending } ? pending : [], r => r.Id == requestId);
        Assert.Equal(1, await portal.WithApprovalsAsync(a => a.CountOpenAsync(op)));

        var applied = await portal.ApproveAppliedAsync(approver, requestId);
        Assert.Equal("ap-approver", applied.AppliedBy);
        Assert.Contains("Created the root CA", applied.Outcome!.Text, StringComparison.Ordinal);
        Assert.Equal(2, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));

        var audit = (await AuditAsync()).Where(a => (a.Target ?? "").Contains($"#{requestId} ", StringComparison.Ordinal) || (a.Detail ?? "").Contains($"(request #{requestId})", StringComparison.Ordinal)).ToList();
        Assert.Contains(audit, a => a.Action == ApprovalAuditActions.Requested && a.Actor == "ap-op");
        Assert.Contains(audit, a => a.Action == ApprovalAuditActions.Approved && a.Actor == "ap-approver");
        Assert.Contains(audit, a => a.Action == ApprovalAuditActions.Applied && a.Outcome == AuditOutcomes.Succeeded && a.Detail!.StartsWith("applied for ap-op, approved by ap-approver", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Action == AuditActions.SetupCaGenerated && a.Outcome == AuditOutcomes.Succeeded && a.Detail!.Contains("applied for ap-op, approved by ap-approver", StringComparison.Ordinal));

        // Applied in a scope of its own (not the approver's page's), where the key store still knows who acts.
        var keyIds = await Factory.WithDbAsync(db => db.SetupCertificates.Where(c => c.SetupId == setupId).Select(c => c.KeyId!).ToListAsync());
        var stored = await Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Action == AuditActions.KeyStored && keyIds.Contains(a.Target!)).ToListAsync());
        Assert.Equal(2, stored.Count);
        Assert.All(stored, a => Assert.Equal("ap-approver", a.Actor));

        // Applied once: approving again is refused and changes nothing.
        var again = await portal.WithApprovalsAsync(a => a.ApproveAsync(approver, requestId));
        Assert.False(again.Succeeded);
        Assert.Equal(2, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));
    }

    [Fact]
    public async Task Nobody_approves_their_own_request_not_even_an_administrator()
    {
        var admin = await portal.UserAsync("ap-self-admin", PortalRoles.Administrator);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(admin, "Self cave"))).Value!.Id;
        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(admin, setupId, "Self Root", null, ProfilePreset.Recommended)));

        var own = (await portal.WithApprovalsAsync(a => a.GetAsync(admin, requestId))).Value!;
        Assert.True(own.CallerIsRequester);
        Assert.False(own.CallerMayDecide);

        var approve = await portal.WithApprovalsAsync(a => a.ApproveAsync(admin, requestId));
        Assert.True(approve.Error!.Denied);
        Assert.Contains("cannot decide it", approve.Error.Message, StringComparison.Ordinal);
        var reject = await portal.WithApprovalsAsync(a => a.RejectAsync(admin, requestId, "never mind"));
        Assert.True(reject.Error!.Denied);

        Assert.Equal(ApprovalStatus.Pending, await StatusAsync(requestId));
        Assert.Equal(0, await Factory.WithDbAsync(db => db.ApprovalDecisions.CountAsync(d => d.RequestId == requestId)));
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));
        Assert.Equal(2, (await AuditAsync()).Count(a => a.Actor == "ap-self-admin" && a.Outcome == AuditOutcomes.Denied && a.Detail == "own request"));

        // The requester may withdraw it instead.
        var cancelled = await portal.WithApprovalsAsync(a => a.CancelAsync(admin, requestId));
        Assert.Equal(ApprovalStatus.Cancelled, cancelled.Value!.Status);
    }

    [Fact]
    public async Task Viewers_and_operators_cannot_approve_or_reject_and_nothing_changes()
    {
        var op = await portal.UserAsync("ap-auth-op", PortalRoles.Operator);
        var otherOp = await portal.UserAsync("ap-auth-op2", PortalRoles.Operator);
        var viewer = await portal.UserAsync("ap-auth-viewer", PortalRoles.Viewer);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Auth cave"))).Value!.Id;
        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Auth Root", null, ProfilePreset.Recommended)));

        foreach (var (who, name) in new[] { (viewer, "ap-auth-viewer"), (otherOp, "ap-auth-op2") })
        {
            var approve = await portal.WithApprovalsAsync(a => a.ApproveAsync(who, requestId));
            Assert.True(approve.Error!.Denied, name);
            Assert.Contains("Approver role", approve.Error.WhatToDo, StringComparison.Ordinal);
            var reject = await portal.WithApprovalsAsync(a => a.RejectAsync(who, requestId, "no"));
            Assert.True(reject.Error!.Denied, name);
            Assert.False((await portal.WithApprovalsAsync(a => a.GetAsync(who, requestId))).Value!.CallerMayDecide);
            Assert.Equal(2, (await AuditAsync()).Count(a => a.Actor == name && a.Outcome == AuditOutcomes.Denied && a.Detail == "Approver role required"));
        }

        // A Viewer cannot even make a request.
        var viewerRequest = await portal.WithWizardAsync(w => w.Upload.UploadCaAsync(viewer, setupId));
        Assert.True(viewerRequest.Error!.Denied);

        Assert.Equal(ApprovalStatus.Pending, await StatusAsync(requestId));
        Assert.Equal(0, await Factory.WithDbAsync(db => db.ApprovalDecisions.CountAsync(d => d.RequestId == requestId)));
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));
        Assert.Equal(1, await Factory.WithDbAsync(db => db.ApprovalRequests.CountAsync(r => r.SetupId == setupId)));

        // The other operator cannot cancel someone else's request either.
        var cancel = await portal.WithApprovalsAsync(a => a.CancelAsync(otherOp, requestId));
        Assert.True(cancel.Error!.Denied);
        Assert.Equal(ApprovalStatus.Pending, await StatusAsync(requestId));
    }

    [Fact]
    public async Task A_rejection_needs_a_comment_and_a_rejected_request_is_never_applied()
    {
        var op = await portal.UserAsync("ap-rej-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("ap-rej-approver", PortalRoles.Approver);
        var second = await portal.UserAsync("ap-rej-approver2", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Rejected cave"))).Value!.Id;
        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Rejected Root", null, ProfilePreset.CertGenCompatible)));
        var request = (await portal.WithApprovalsAsync(a => a.GetAsync(approver, requestId))).Value!;
        Assert.Contains(request.Facts, f => f.Label == "Key type" && f.Value == "RSA 4096");

        var noComment = await portal.WithApprovalsAsync(a => a.RejectAsync(approver, requestId, "  "));
        Assert.Contains("needs a comment", noComment.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(ApprovalStatus.Pending, await StatusAsync(requestId));

        var rejected = await portal.WithApprovalsAsync(a => a.RejectAsync(approver, requestId, "Use the recommended preset, please."));
        Assert.Equal(ApprovalStatus.Rejected, rejected.Value!.Status);
        Assert.Equal("Use the recommended preset, please.", Assert.Single(rejected.Value.Decisions).Comment);

        var late = await portal.WithApprovalsAsync(a => a.ApproveAsync(second, requestId));
        Assert.Contains("no longer waiting", late.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));

        // A new request is possible once the old one is decided; while one waits, a second is refused.
        ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Rejected Root", null, ProfilePreset.Recommended)));
        var duplicate = await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Rejected Root", null, ProfilePreset.Recommended));
        Assert.Contains("already waiting for approval", duplicate.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_request_cannot_be_approved_and_is_listed_as_expired()
    {
        var op = await portal.UserAsync("ap-exp-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("ap-exp-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Expired cave"))).Value!.Id;
        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Expired Root", null, ProfilePreset.Recommended)));

        // Three days pass (the stored expiry moves into the past; the service reads the clock itself).
        await Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1))));

        var approve = await portal.WithApprovalsAsync(a => a.ApproveAsync(approver, requestId));
        Assert.Contains("expired", approve.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(ApprovalStatus.Expired, await StatusAsync(requestId));
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));

        var all = (await portal.WithApprovalsAsync(a => a.ListAsync(approver, ApprovalFilter.All))).Value!;
        Assert.Equal(ApprovalStatus.Expired, all.Single(r => r.Id == requestId).Status);
        Assert.DoesNotContain((await portal.WithApprovalsAsync(a => a.ListAsync(approver, ApprovalFilter.Pending))).Value!, r => r.Id == requestId);
        Assert.Contains(await AuditAsync(), a => a.Action == ApprovalAuditActions.Expired && a.Actor == "system" && a.Target!.StartsWith($"approval #{requestId} ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_required_approvers_means_two_distinct_people()
    {
        var op = await portal.UserAsync("ap-two-op", PortalRoles.Operator);
        var first = await portal.UserAsync("ap-two-a", PortalRoles.Approver);
        var second = await portal.UserAsync("ap-two-b", PortalRoles.Administrator);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Two cave"))).Value!.Id;
        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Two Root", null, ProfilePreset.Recommended)));
        await Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).ExecuteUpdateAsync(s => s.SetProperty(r => r.RequiredApprovals, 2)));

        var one = (await portal.WithApprovalsAsync(a => a.ApproveAsync(first, requestId))).Value!;
        Assert.Equal(ApprovalStatus.Pending, one.Status);
        Assert.Equal(1, one.Approvals);
        var twice = await portal.WithApprovalsAsync(a => a.ApproveAsync(first, requestId));
        Assert.Contains("already approved", twice.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));

        var applied = await portal.ApproveAppliedAsync(second, requestId);
        Assert.Equal(2, applied.Approvals);
        Assert.Contains(await AuditAsync(), a => a.Action == ApprovalAuditActions.Applied && a.Detail!.StartsWith("applied for ap-two-op, approved by ap-two-a, ap-two-b", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_earlier_approval_stops_counting_when_its_approver_is_demoted_or_disabled_before_the_last_one(bool disable)
    {
        var suffix = disable ? "d" : "r";
        var op = await portal.UserAsync($"ap-recheck-op-{suffix}", PortalRoles.Operator);
        var first = await portal.UserAsync($"ap-recheck-a-{suffix}", PortalRoles.Approver);
        var second = await portal.UserAsync($"ap-recheck-b-{suffix}", PortalRoles.Approver);
        var third = await portal.UserAsync($"ap-recheck-c-{suffix}", PortalRoles.Administrator);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, $"Recheck cave {suffix}"))).Value!.Id;
        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Recheck Root", null, ProfilePreset.Recommended)));
        await Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).ExecuteUpdateAsync(s => s.SetProperty(r => r.RequiredApprovals, 2)));
        Assert.Equal(ApprovalStatus.Pending, (await portal.WithApprovalsAsync(a => a.ApproveAsync(first, requestId))).Value!.Status);

        // The first approver loses the right to approve before the second one decides.
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<PortalUser>>();
            var user = (await users.FindByNameAsync($"ap-recheck-a-{suffix}"))!;
            if (disable)
            {
                user.IsDisabled = true;
                Assert.True((await users.UpdateAsync(user)).Succeeded);
            }
            else
            {
                Assert.True((await users.RemoveFromRoleAsync(user, PortalRoles.Approver)).Succeeded);
                Assert.True((await users.AddToRoleAsync(user, PortalRoles.Operator)).Succeeded);
            }
        }

        var afterSecond = (await portal.WithApprovalsAsync(a => a.ApproveAsync(second, requestId))).Value!;
        Assert.Equal(ApprovalStatus.Pending, afterSecond.Status);
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));

        await portal.ApproveAppliedAsync(third, requestId);
        Assert.Contains(await AuditAsync(), a => a.Action == ApprovalAuditActions.Applied
            && a.Detail!.StartsWith($"applied for ap-recheck-op-{suffix}, approved by ap-recheck-b-{suffix}, ap-recheck-c-{suffix} (", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_pages_and_the_key_download_are_authorized_on_the_server()
    {
        await Factory.CreateUserAsync("ap-pages-viewer", PortalRoles.Viewer);
        using var anonymous = Factory.CreatePortalClient();
        foreach (var path in new[] { "/approvals", "/approvals/1", $"/setups/1/key-exports/{new string('a', 32)}/x.key.pem" })
        {
            using var response = await anonymous.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/account/login", Forms.RedirectPath(response), StringComparison.Ordinal);
        }

        using var viewer = await Factory.SignedInClientAsync("ap-pages-viewer");
        Assert.Contains("Approvals", await Forms.GetPageAsync(viewer, "/approvals"), StringComparison.Ordinal);
        using var key = await viewer.GetAsync(new Uri($"/setups/1/key-exports/{new string('a', 32)}/x.key.pem", UriKind.Relative));
        Assert.NotEqual(HttpStatusCode.OK, key.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, key.StatusCode); // forbidden: to the access-denied page
        Assert.StartsWith("/account/access-denied", Forms.RedirectPath(key), StringComparison.Ordinal);
    }

    private Task<List<AuditEntry>> AuditAsync() => Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().ToListAsync());

    private Task<ApprovalStatus> StatusAsync(int requestId) =>
        Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).Select(r => r.Status).SingleAsync());
}
