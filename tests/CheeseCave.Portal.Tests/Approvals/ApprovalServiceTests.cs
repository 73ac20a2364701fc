using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using CheeseCave.Portal.Auditing;

using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Portal.Setups.Allocation;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Hubs;
using CheeseCave.Portal.Setups.KeyExport;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.Overview;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Setups.Upload;
using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Approvals;

/// <summary>Four eyes through the real services, the real SQLite database and the embedded emulator.</summary>
public sealed class ApprovalServiceTests(ApprovalTestPortal portal) : IClassFixture<ApprovalTestPortal>
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
    public async Task Devices_issued_on_approval_can_be_downloaded_by_the_requester_with_the_password_shown_to_them_once()
    {
        var op = await portal.UserAsync("ap-dev-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("ap-dev-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Device approval cave"))).Value!.Id;
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Dev Root", null, ProfilePreset.Recommended))));

        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.Devices.IssueDevicesAsync(op, setupId, ["dev-ap-001", "dev-ap-002", "dev-ap-003"])));
        var request = (await portal.WithApprovalsAsync(a => a.GetAsync(approver, requestId))).Value!;
        Assert.Contains(request.Facts, f => f.Label == "Device count" && f.Value == "3");
        Assert.Contains(request.Facts, f => f.Label == "Issuing CA" && f.Value.Contains("Dev Root", StringComparison.Ordinal));
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupDevices.CountAsync(d => d.SetupId == setupId)));

        var applied = await portal.ApproveAppliedAsync(approver, requestId);
        Assert.True(applied.Outcome!.HasSecret);
        Assert.False(applied.SecretWaiting); // the approver's view: nothing for them
        var batchZip = applied.Outcome.Link!;
        Assert.Equal(3, await Factory.WithDbAsync(db => db.SetupDevices.CountAsync(d => d.SetupId == setupId)));

        // The approver cannot take the requester's password; the requester can, once.
        Assert.False((await portal.WithApprovalsAsync(a => a.RevealSecretAsync(approver, requestId))).Succeeded);
        Assert.True((await portal.WithApprovalsAsync(a => a.GetAsync(op, requestId))).Value!.SecretWaiting);
        var password = (await portal.WithApprovalsAsync(a => a.RevealSecretAsync(op, requestId))).Value!;
        Assert.False((await portal.WithApprovalsAsync(a => a.RevealSecretAsync(op, requestId))).Succeeded);

        using var client = await Factory.SignedInClientAsync("ap-dev-op");
        using var zipResponse = await client.GetAsync(new Uri("/" + batchZip, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, zipResponse.StatusCode);
        using var zip = new ZipArchive(await zipResponse.Content.ReadAsStreamAsync());
        Assert.Contains(zip.Entries, e => e.FullName == "dev-ap-002/dev-ap-002.key.pem");
        var pfxEntry = zip.GetEntry("dev-ap-001/dev-ap-001.pfx")!;
        using var pfxBuffer = new MemoryStream();
        await using (var pfxStream = pfxEntry.Open())
        {
            await pfxStream.CopyToAsync(pfxBuffer);
        }

        var collection = X509CertificateLoader.LoadPkcs12Collection(pfxBuffer.ToArray(), password);
        Assert.Contains(collection, c => c.HasPrivateKey && c.Subject == "CN=dev-ap-001");

        // The approver who applied the batch may read its certificates, never its keys: the keys are the requester's.
        var device = await Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.SetupId == setupId && d.RegistrationId == "dev-ap-001"));
        using var approverClient = await Factory.SignedInClientAsync("ap-dev-approver");
        foreach (var secret in new[] { ".key.pem", ".pfx" })
        {
            using var notYours = await approverClient.GetAsync(new Uri($"/setups/{setupId}/devices/{device.Id}/dev-ap-001{secret}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Forbidden, notYours.StatusCode);
            var body = await notYours.Content.ReadAsStringAsync();
            Assert.StartsWith("Only ap-dev-op, who issued this batch, can download its keys, until ", body, StringComparison.Ordinal);
            Assert.DoesNotContain("PRIVATE", body, StringComparison.Ordinal);
        }

        using (var cert = await approverClient.GetAsync(new Uri($"/setups/{setupId}/devices/{device.Id}/dev-ap-001.cert.pem", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, cert.StatusCode);
        }

        using (var approverZipResponse = await approverClient.GetAsync(new Uri("/" + batchZip, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, approverZipResponse.StatusCode);
            using var approverZip = new ZipArchive(await approverZipResponse.Content.ReadAsStreamAsync());
            Assert.Contains(approverZip.Entries, e => e.FullName == "dev-ap-001/dev-ap-001.cert.pem");
            Assert.DoesNotContain(approverZip.Entries, e => e.FullName.EndsWith(".key.pem", StringComparison.Ordinal) || e.FullName.EndsWith(".pfx", StringComparison.Ordinal));
            using var readme = new StreamReader(approverZip.GetEntry("README.md")!.Open());
            Assert.Contains("only ap-dev-op, who issued this batch, can download them", await readme.ReadToEndAsync(), StringComparison.Ordinal);
        }

        var refusals = (await AuditAsync()).Where(a => a.Actor == "ap-dev-approver" && a.Action == AuditActions.SetupDeviceFileDownloaded && a.Outcome == AuditOutcomes.Denied).ToList();
        Assert.Equal(3, refusals.Count); // key, PFX, and the keys left out of the ZIP
        Assert.All(refusals, a => Assert.Contains("not the batch's issuer (ap-dev-op)", a.Detail, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_CA_key_export_is_approved_then_downloadable_once_by_the_requester_and_opens_with_the_passphrase_in_openssl()
    {
        var op = await portal.UserAsync("ap-key-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("ap-key-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Key export cave"))).Value!.Id;
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Key Root", null, ProfilePreset.Recommended))));
        var root = await Factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().SingleAsync(c => c.SetupId == setupId));

        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.KeyExports.ExportPrivateKeyAsync(op, setupId, root.Id)));
        var request = (await portal.WithApprovalsAsync(a => a.GetAsync(approver, requestId))).Value!;
        Assert.Contains(request.Facts, f => f.Label == "SHA-1 thumbprint" && f.Value == root.ThumbprintSha1);
        Assert.Contains(request.Facts, f => f.Label == "SHA-256 thumbprint" && f.Value == root.ThumbprintSha256);

        var applied = await portal.ApproveAppliedAsync(approver, requestId);
        var link = applied.Outcome!.Link!;
        Assert.DoesNotContain("PRIVATE", applied.Outcome.ToJson(), StringComparison.Ordinal);

        using var approverClient = await Factory.SignedInClientAsync("ap-key-approver");
        using (var stranger = await approverClient.GetAsync(new Uri("/" + link, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Gone, stranger.StatusCode); // not theirs, and it stays waiting for the requester
        }

        var passphrase = (await portal.WithApprovalsAsync(a => a.RevealSecretAsync(op, requestId))).Value!;
        using var client = await Factory.SignedInClientAsync("ap-key-op");
        string pem;
        using (var download = await client.GetAsync(new Uri("/" + link, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Contains("no-store", download.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
            pem = await download.Content.ReadAsStringAsync();
        }

        Assert.StartsWith(PemLabels.BeginLine(PemLabels.EncryptedPrivateKey), pem, StringComparison.Ordinal);
        using (var second = await client.GetAsync(new Uri("/" + link, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Gone, second.StatusCode);
        }

        // openssl decrypts it with the passphrase, and its public key is the CA certificate's.
        var folder = Directory.CreateTempSubdirectory("cheesecave-key-export-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "key.pem"), pem);
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "ca.pem"), root.Pem);
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "pass.txt"), passphrase);
            var fromKey = OpenSsl(folder.FullName, "pkey", "-in", "key.pem", "-passin", "file:pass.txt", "-pubout");
            var fromCertificate = OpenSsl(folder.FullName, "x509", "-in", "ca.pem", "-noout", "-pubkey");
            Assert.Equal(fromCertificate, fromKey);
            Assert.NotEqual(0, OpenSslExitCode(folder.FullName, "pkey", "-in", "key.pem", "-passin", "pass:wrong-passphrase", "-pubout"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        Assert.Contains(await AuditAsync(), a => a.Action == ApprovalAuditActions.KeyExportDownloaded && a.Actor == "ap-key-op" && a.Outcome == AuditOutcomes.Succeeded);
    }

    [Fact]
    public async Task The_enrollment_group_delete_is_gated_and_applied_through_the_dps()
    {
        var op = await portal.UserAsync("ap-eg-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("ap-eg-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "apeg"))).Value!.Id;
        await portal.WithWizardAsync(async w =>
        {
            w.PollInterval = TimeSpan.FromMilliseconds(50);
            Assert.True((await w.Dps.CreateDpsAsync(op, setupId, "cheesecave-rg", "apeg-dps", "eastus")).Succeeded);
            Assert.True((await w.Hubs.CreateHubAsync(op, setupId, "apeg-hub", "eastus")).Succeeded);
            Assert.True((await w.Hubs.LinkHubAsync(op, setupId, "apeg-hub", "iothubowner", 1, true)).Succeeded);
            return true;
        });
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "apeg Root", null, ProfilePreset.Recommended))));
        var uploadId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.Upload.UploadCaAsync(op, setupId)));
        var upload = (await portal.WithApprovalsAsync(a => a.GetAsync(approver, uploadId))).Value!;
        Assert.Contains(upload.Facts, f => f.Label == "Target DPS" && f.Value.StartsWith("apeg-dps", StringComparison.Ordinal));
        await portal.ApproveAppliedAsync(approver, upload.Id);
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.OneClickProof.VerifyCaAsync(op, setupId))));
        var view = (await portal.WithWizardAsync(w => w.Setups.GetAsync(op, setupId))).Value!;
        Assert.True(view.Root!.IsVerified);

        var form = new EnrollmentGroupForm { GroupId = "apeg-devices", PrimaryCa = view.Root.DpsCertificateName!, Hubs = [view.LinkedHubs.Single().HostName] };
        var saveId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.Enrollment.SaveEnrollmentGroupAsync(op, setupId, form)));
        var save = (await portal.WithApprovalsAsync(a => a.GetAsync(approver, saveId))).Value!;
        Assert.Contains(save.Facts, f => f.Label == "Operation" && f.Value.StartsWith("Create", StringComparison.Ordinal));
        Assert.Contains(save.Facts, f => f.Label == "Hubs" && f.Value == view.LinkedHubs.Single().HostName);
        await portal.ApproveAppliedAsync(approver, save.Id);
        Assert.NotNull((await portal.WithWizardAsync(w => w.Enrollment.GetEnrollmentGroupAsync(op, setupId))).Value);

        var deleteId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.Enrollment.DeleteEnrollmentGroupAsync(op, setupId)));
        Assert.NotNull((await portal.WithWizardAsync(w => w.Enrollment.GetEnrollmentGroupAsync(op, setupId))).Value); // still there while waiting
        await portal.ApproveAppliedAsync(approver, deleteId);
        Assert.Null((await portal.WithWizardAsync(w => w.Setups.GetAsync(op, setupId))).Value!.EnrollmentGroupId);
        Assert.Contains(await AuditAsync(), a => a.Action == ApprovalAuditActions.EnrollmentGroupDeleted && a.Outcome == AuditOutcomes.Succeeded && a.Detail!.Contains("applied for ap-eg-op", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failure_while_applying_ends_Failed_with_the_reason_in_plain_words()
    {
        var op = await portal.UserAsync("ap-fail-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("ap-fail-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Failing cave"))).Value!.Id;
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Fail Root", null, ProfilePreset.Recommended))));
        var root = await Factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().SingleAsync(c => c.SetupId == setupId));
        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.KeyExports.ExportPrivateKeyAsync(op, setupId, root.Id)));

        // Between request and approval the stored key disappears (say, restored from an old backup).
        await Factory.WithDbAsync(db => db.ProtectedKeys.Where(k => k.KeyId == root.KeyId).ExecuteDeleteAsync());

        var result = (await portal.WithApprovalsAsync(a => a.ApproveAsync(approver, requestId))).Value!;
        Assert.Equal(ApprovalStatus.Failed, result.Status);
        Assert.Contains("There is no stored key named", result.Error, StringComparison.Ordinal);
        Assert.Contains(await AuditAsync(), a => a.Action == ApprovalAuditActions.Applied && a.Outcome == AuditOutcomes.Failed && a.Target!.StartsWith($"approval #{requestId} ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("RequiredApprovers", "0", "RequiredApprovers is 0")]
    [InlineData("ExpiresAfter", "00:00:10", "ExpiresAfter is 00:00:10")]
    [InlineData("RequiredFor:0", "ApproveEverything", "'ApproveEverything', which is not an action")]
    public void Invalid_settings_stop_the_portal_at_start_with_a_clear_message(string key, string value, string expected)
    {
        using var factory = new PortalFactory { Approvals = true };
        using var broken = factory.WithWebHostBuilder(b => b.UseSetting($"CheeseCave:Approvals:{key}", value));
        var error = Assert.Throws<OptionsValidationException>(() => broken.Services);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_require_approval_for_every_action_by_one_colleague_within_three_days()
    {
        var options = Factory.Services.GetRequiredService<IOptions<ApprovalOptions>>().Value;
        Assert.True(options.Enabled);
        Assert.All(Enum.GetValues<ApprovalAction>(), action => Assert.True(options.Requires(action), action.ToString()));
        Assert.Equal(1, options.RequiredApprovers);
        Assert.Equal(TimeSpan.FromDays(3), options.ExpiresAfter);
        Assert.False(new ApprovalOptions { Enabled = false }.Requires(ApprovalAction.CreateCa));
        Assert.False(new ApprovalOptions { RequiredFor = ["IssueDevices"] }.Requires(ApprovalAction.CreateCa));
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

    [Fact]
    public async Task A_request_left_applying_by_a_restart_is_marked_failed_not_applied_again()
    {
        var folder = Path.Combine(Path.GetTempPath(), "cheesecave-approval-restart-" + Guid.NewGuid().ToString("N"));
        int requestId;
        await using (var first = new PortalFactory { Approvals = true, DataDirectory = folder, KeepData = true })
        {
            await first.CreateUserAsync("restart-op", PortalRoles.Operator);
            var op = await first.PrincipalForAsync("restart-op");
            await using var scope = first.Services.CreateAsyncScope();
            var wizard = new SetupSlices(scope.ServiceProvider);
            var setupId = (await wizard.Setups.CreateAsync(op, "Restart cave")).Value!.Id;
            requestId = ApprovalTestPortal.Pending(await wizard.CaGeneration.GenerateCaAsync(op, setupId, "Restart Root", null, ProfilePreset.Recommended));
            // The state a crash between the claim and the end of applying leaves behind.
            await first.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, ApprovalStatus.Approved)));
        }

        await using var second = new PortalFactory { Approvals = true, DataDirectory = folder };
        var stored = await second.WithDbAsync(db => db.ApprovalRequests.AsNoTracking().SingleAsync(r => r.Id == requestId));
        Assert.Equal(ApprovalStatus.Failed, stored.Status);
        Assert.Equal(InterruptedApprovals.Reason, stored.Error);
        Assert.Equal(0, await second.WithDbAsync(db => db.SetupCertificates.CountAsync()));
    }

    private Task<List<AuditEntry>> AuditAsync() => Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().ToListAsync());

    private Task<ApprovalStatus> StatusAsync(int requestId) =>
        Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).Select(r => r.Status).SingleAsync());

    private static string OpenSsl(string folder, params string[] arguments)
    {
        using var process = Start(folder, arguments);
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', arguments)}: {errors}");
        return output;
    }

    private static int OpenSslExitCode(string folder, params string[] arguments)
    {
        using var process = Start(folder, arguments);
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }

    private static Process Start(string folder, string[] arguments)
    {
        var info = new ProcessStartInfo("openssl") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info)!;
    }
}
