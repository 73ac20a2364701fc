using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Approvals;

/// <summary>Four eyes: what an approved request applies (devices, a CA key export, an enrollment group delete), and how applying ends when it fails.</summary>
[Collection(ApprovalServiceGroup.Name)]
public sealed class ApprovedChangesTests(ApprovalTestPortal portal)
{
    private PortalFactory Factory => portal.Factory;

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
