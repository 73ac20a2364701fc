using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Approvals;

/// <summary>
/// Four eyes for a CA import (the key waits encrypted in the key store, only public parts in the request) and for
/// manual proof of possession (the verification certificate and its code in the request). openssl-made CAs, the
/// literal verification commands, the real services, SQLite and the embedded emulator's DPS.
/// </summary>
public sealed class ApprovalImportAndProofTests(ApprovalTestPortal portal) : IClassFixture<ApprovalTestPortal>
{
    private const string KeyPassphrase = "import phrase 4";

    private PortalFactory Factory => portal.Factory;

    [Fact]
    public async Task An_import_with_its_key_waits_for_another_approver_then_the_CA_is_imported_its_key_signs_devices_and_it_is_attributed()
    {
        var op = await portal.UserAsync("aip-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("aip-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Import approval cave"))).Value!.Id;
        using var ca = new ExternalCa();
        ca.Root("aip-root");
        ca.EncryptKey("aip-root", KeyPassphrase);

        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaImport.ImportCaAsync(op, setupId, WithKey(ca, "aip-root"))));

        // Nothing in the setup yet; the request holds public parts and a key id, never the key or its passphrase.
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));
        var payload = await PayloadAsync<ImportCaPayload>(requestId);
        var stored = await Factory.WithDbAsync(db => db.ApprovalRequests.AsNoTracking().SingleAsync(r => r.Id == requestId));
        Assert.DoesNotContain("PRIVATE", stored.PayloadJson, StringComparison.Ordinal);
        Assert.DoesNotContain(KeyPassphrase, stored.PayloadJson, StringComparison.Ordinal);
        Assert.All(ca.Text("aip-root.key.pem").Split('\n').Where(l => l.Length > 20 && !l.StartsWith("-----", StringComparison.Ordinal)),
            line => Assert.DoesNotContain(line.Trim(), stored.PayloadJson + stored.FactsJson, StringComparison.Ordinal));
        Assert.NotNull(payload.KeyId);
        Assert.True(await KeyExistsAsync(payload.KeyId!));

        // Plain terms for the approver, thumbprints as openssl computes them.
        var request = (await portal.WithApprovalsAsync(a => a.GetAsync(approver, requestId))).Value!;
        Assert.Equal(ApprovalAction.ImportCa, request.Action);
        Assert.Contains("aip-root", request.Title, StringComparison.Ordinal);
        Assert.Contains(request.Facts, f => f.Label == "Subject" && f.Value == "CN=aip-root");
        Assert.Contains(request.Facts, f => f.Label == "Issuer" && f.Value.Contains("self-signed", StringComparison.Ordinal));
        Assert.Contains(request.Facts, f => f.Label == "Key type" && f.Value.Contains("P-256", StringComparison.Ordinal));
        Assert.Contains(request.Facts, f => f.Label == "Valid");
        Assert.Contains(request.Facts, f => f.Label == "SHA-1 thumbprint" && f.Value == Fingerprint(ca, "aip-root.pem", "-sha1"));
        Assert.Contains(request.Facts, f => f.Label == "SHA-256 thumbprint" && f.Value == Fingerprint(ca, "aip-root.pem", "-sha256"));
        Assert.Contains(request.Facts, f => f.Label == "Private key" && f.Value == "With private key (kept encrypted in the portal)");
        Assert.Contains(request.Facts, f => f.Label == "Chain" && f.Value.Contains("self-signed root", StringComparison.Ordinal));

        var applied = await portal.ApproveAppliedAsync(approver, requestId);
        Assert.Contains("Imported the root CA aip-root", applied.Outcome!.Text, StringComparison.Ordinal);
        var root = await Factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().SingleAsync(c => c.SetupId == setupId));
        Assert.Equal(payload.KeyId, root.KeyId); // the key stored at request time, not a copy
        Assert.Equal(Fingerprint(ca, "aip-root.pem", "-sha1"), root.ThumbprintSha1);
        Assert.Equal(root.Id, (await Factory.WithDbAsync(db => db.Setups.AsNoTracking().SingleAsync(s => s.Id == setupId))).RootCertificateId);

        var audit = await Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().ToListAsync());
        Assert.Contains(audit, a => a.Action == CaImportAuditActions.CaImported && a.Actor == "aip-approver" && a.Outcome == AuditOutcomes.Succeeded
            && a.Detail!.Contains("key stored encrypted", StringComparison.Ordinal) && a.Detail.Contains($"applied for aip-op, approved by aip-approver (request #{requestId})", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Action == ApprovalAuditActions.Requested && a.Actor == "aip-op" && a.Target!.StartsWith($"approval #{requestId} ", StringComparison.Ordinal));

        // The imported key is usable: a device issued (after its own approval) verifies against the imported root with openssl.
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.Devices.IssueDevicesAsync(op, setupId, ["aip-device-1"]))));
        var device = await Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.SetupId == setupId));
        File.WriteAllText(ca.PathOf("aip-device-1.pem"), device.CertificatePem);
        Assert.Contains("aip-device-1.pem: OK", ca.Run("verify", "-CAfile", "aip-root.pem", "aip-device-1.pem"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejected_cancelled_or_expired_import_deletes_its_stored_key()
    {
        var op = await portal.UserAsync("aik-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("aik-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Key release cave"))).Value!.Id;
        using var ca = new ExternalCa();
        ca.Root("aik-root", "rsa:2048");
        ca.EncryptKey("aik-root", KeyPassphrase);

        // Rejected.
        var rejectedId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaImport.ImportCaAsync(op, setupId, WithKey(ca, "aik-root"))));
        var rejectedKey = (await PayloadAsync<ImportCaPayload>(rejectedId)).KeyId!;
        Assert.True(await KeyExistsAsync(rejectedKey));
        var rejected = await portal.WithApprovalsAsync(a => a.RejectAsync(approver, rejectedId, "Not this CA, please."));
        Assert.Equal(ApprovalStatus.Rejected, rejected.Value!.Status);
        Assert.False(await KeyExistsAsync(rejectedKey));
        await Assert.ThrowsAsync<PkiException>(() => WithKeysAsync(k => k.OpenAsync(rejectedKey)));
        Assert.Contains(await Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().ToListAsync()),
            a => a.Action == ApprovalAuditActions.StoredKeyDeleted && a.Target == rejectedKey && a.Detail == $"request #{rejectedId} ended without being applied");

        // Cancelled by the requester.
        var cancelledId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaImport.ImportCaAsync(op, setupId, WithKey(ca, "aik-root"))));
        var cancelledKey = (await PayloadAsync<ImportCaPayload>(cancelledId)).KeyId!;
        Assert.NotEqual(rejectedKey, cancelledKey); // a new id per request; ids are never reused
        Assert.True((await portal.WithApprovalsAsync(a => a.CancelAsync(op, cancelledId))).Succeeded);
        Assert.False(await KeyExistsAsync(cancelledKey));

        // Expired (found when the list is read).
        var expiredId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaImport.ImportCaAsync(op, setupId, WithKey(ca, "aik-root"))));
        var expiredKey = (await PayloadAsync<ImportCaPayload>(expiredId)).KeyId!;
        await Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == expiredId).ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1))));
        Assert.True((await portal.WithApprovalsAsync(a => a.ListAsync(approver, ApprovalFilter.All))).Succeeded);
        Assert.Equal(ApprovalStatus.Expired, await StatusAsync(expiredId));
        Assert.False(await KeyExistsAsync(expiredKey));

        // A second request while one waits is refused before anything is stored.
        var waitingId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaImport.ImportCaAsync(op, setupId, WithKey(ca, "aik-root"))));
        var keysBefore = await Factory.WithDbAsync(db => db.ProtectedKeys.CountAsync());
        var duplicate = await portal.WithWizardAsync(w => w.CaImport.ImportCaAsync(op, setupId, WithKey(ca, "aik-root")));
        Assert.Contains($"already waiting for approval (#{waitingId}", duplicate.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(keysBefore, await Factory.WithDbAsync(db => db.ProtectedKeys.CountAsync()));
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));
    }

    [Fact]
    public async Task An_import_is_checked_in_full_when_requested_and_refused_when_applying_if_the_setup_got_another_CA_meanwhile()
    {
        var op = await portal.UserAsync("aif-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("aif-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Import race cave"))).Value!.Id;
        using var ca = new ExternalCa();
        ca.Root("aif-root");
        ca.Root("aif-other");
        ca.Signed("aif-leaf", "aif-root", extensions: "v3_leaf");

        // The existing checks run at request time: a wrong key and a leaf are refused, and no key stays behind.
        var keysBefore = await Factory.WithDbAsync(db => db.ProtectedKeys.CountAsync());
        var wrongKey = await portal.WithWizardAsync(w => w.CaImport.ImportCaAsync(op, setupId, new CaImportRequest(ca.Bytes("aif-root.pem")) { PrivateKeyPem = ca.Bytes("aif-other.key.pem") }));
        Assert.Contains("does not belong to", wrongKey.Error!.Message, StringComparison.Ordinal);
        var leaf = await portal.WithWizardAsync(w => w.CaImport.ImportCaAsync(op, setupId, new CaImportRequest(ca.Bytes("aif-leaf.pem"))));
        Assert.Contains("is not a CA", leaf.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(keysBefore, await Factory.WithDbAsync(db => db.ProtectedKeys.CountAsync()));
        Assert.Equal(0, await Factory.WithDbAsync(db => db.ApprovalRequests.CountAsync(r => r.SetupId == setupId)));

        var importId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaImport.ImportCaAsync(op, setupId, new CaImportRequest(ca.Bytes("aif-root.pem")) { PrivateKeyPem = ca.Bytes("aif-root.key.pem") })));
        var keyId = (await PayloadAsync<ImportCaPayload>(importId)).KeyId!;

        // Meanwhile the setup gets a generated CA (its own request, approved first).
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "aif Generated Root", null, ProfilePreset.Recommended))));

        var failed = (await portal.WithApprovalsAsync(a => a.ApproveAsync(approver, importId))).Value!;
        Assert.Equal(ApprovalStatus.Failed, failed.Status);
        Assert.Contains("The setup got another CA since this import was requested: 'CN=aif Generated Root'", failed.Error, StringComparison.Ordinal);
        var certificates = await Factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == setupId).ToListAsync());
        Assert.Equal("CN=aif Generated Root", Assert.Single(certificates).Subject);
        Assert.False(await KeyExistsAsync(keyId)); // a failed request releases its key too
    }

    [Fact]
    public async Task Nobody_approves_their_own_import_and_the_form_post_shows_the_waiting_request()
    {
        var approverOp = await portal.UserAsync("aiw-self", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(approverOp, "Import self cave"))).Value!.Id;
        using var ca = new ExternalCa();
        ca.Root("aiw-root");

        using var client = await Factory.SignedInClientAsync("aiw-self");
        using var posted = await PostImportAsync(client, setupId, ca.Bytes("aiw-root.pem"), ("key", ca.Bytes("aiw-root.key.pem")));
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var location = Forms.RedirectPath(posted);
        Assert.StartsWith($"/setups/{setupId}/ca?import=", location, StringComparison.Ordinal);
        var html = WebUtility.HtmlDecode(await Forms.GetPageAsync(client, location));
        var requestId = await Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.SetupId == setupId && r.Action == ApprovalAction.ImportCa).Select(r => r.Id).SingleAsync());
        Assert.Contains($"data-import-waiting=\"{requestId}\"", html, StringComparison.Ordinal);
        Assert.Contains("waiting for approval", html, StringComparison.Ordinal);
        Assert.Contains($"href=\"approvals/{requestId}\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-import-succeeded", html, StringComparison.Ordinal);
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));

        var own = await portal.WithApprovalsAsync(a => a.ApproveAsync(approverOp, requestId));
        Assert.True(own.Error!.Denied);
        Assert.Contains("cannot decide it", own.Error.Message, StringComparison.Ordinal);
        Assert.Equal(ApprovalStatus.Pending, await StatusAsync(requestId));
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupCertificates.CountAsync(c => c.SetupId == setupId)));
    }

    [Fact]
    public async Task Manual_proof_of_possession_is_checked_when_requested_and_verified_on_the_DPS_once_another_approver_approves()
    {
        using var ca = new ExternalCa();
        var (op, approver, setupId) = await UploadedExternalRootAsync(ca, "amp");

        // Generating a code is not gated: it changes nothing DPS trusts.
        var code = await SignCurrentCodeAsync(ca, op, setupId, "amp");

        // A certificate for another CN is refused before any request is made.
        ca.Signed("amp-wrong", "amp-root", commonName: "not-the-code");
        var wrong = await portal.WithWizardAsync(w => w.ManualProof.SubmitVerificationCertificateAsync(op, setupId, new ManualProofRequest(ca.Bytes("amp-wrong.pem"))));
        Assert.Contains($"the current verification code is '{code}'", wrong.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(0, await Factory.WithDbAsync(db => db.ApprovalRequests.CountAsync(r => r.SetupId == setupId && r.Action == ApprovalAction.ProveCa)));

        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.ManualProof.SubmitVerificationCertificateAsync(op, setupId, new ManualProofRequest(ca.Bytes(VerificationCommands.OutputFile)))));
        Assert.False((await portal.WithWizardAsync(w => w.ManualProof.GetProofAsync(op, setupId))).Value!.IsVerified);
        var payload = await PayloadAsync<ManualProofPayload>(requestId);
        Assert.Equal(code, payload.Code);
        Assert.Contains("BEGIN CERTIFICATE", payload.VerificationPem, StringComparison.Ordinal);
        var request = (await portal.WithApprovalsAsync(a => a.GetAsync(approver, requestId))).Value!;
        Assert.Equal(ApprovalAction.ProveCa, request.Action);
        Assert.Contains(request.Facts, f => f.Label == "Verification code" && f.Value == code);
        Assert.Contains(request.Facts, f => f.Label == "Verification certificate" && f.Value.Contains($"CN={code}", StringComparison.Ordinal));
        Assert.Contains(request.Facts, f => f.Label == "SHA-1 thumbprint" && f.Value == Fingerprint(ca, "amp-root.pem", "-sha1"));

        var self = await portal.WithApprovalsAsync(a => a.ApproveAsync(op, requestId));
        Assert.True(self.Error!.Denied);

        var applied = await portal.ApproveAppliedAsync(approver, requestId);
        Assert.Contains("is verified on the DPS", applied.Outcome!.Text, StringComparison.Ordinal);
        var after = (await portal.WithWizardAsync(w => w.ManualProof.GetProofAsync(op, setupId))).Value!;
        Assert.True(after.IsVerified); // as the DPS reports it
        Assert.True(after.HasVerificationCertificate);
        Assert.Contains(await Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().ToListAsync()),
            a => a.Action == CaImportAuditActions.VerificationSubmitted && a.Actor == "amp-approver" && a.Outcome == AuditOutcomes.Succeeded
                && a.Detail!.Contains($"applied for amp-op, approved by amp-approver (request #{requestId})", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_new_code_generated_before_approval_makes_applying_the_manual_proof_fail_in_plain_words()
    {
        using var ca = new ExternalCa();
        var (op, approver, setupId) = await UploadedExternalRootAsync(ca, "amn");
        var code = await SignCurrentCodeAsync(ca, op, setupId, "amn");
        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.ManualProof.SubmitVerificationCertificateAsync(op, setupId, new ManualProofRequest(ca.Bytes(VerificationCommands.OutputFile)))));

        var newer = await portal.WithWizardAsync(w => w.ManualProof.GenerateVerificationCodeAsync(op, setupId));
        Assert.True(newer.Succeeded, newer.Error?.Message);
        Assert.NotEqual(code, newer.Value!.Code);

        var failed = (await portal.WithApprovalsAsync(a => a.ApproveAsync(approver, requestId))).Value!;
        Assert.Equal(ApprovalStatus.Failed, failed.Status);
        Assert.Contains("A new verification code was generated after this request was made", failed.Error, StringComparison.Ordinal);
        Assert.Contains("Ask the requester to sign the new code", failed.Error, StringComparison.Ordinal);
        var proof = (await portal.WithWizardAsync(w => w.ManualProof.GetProofAsync(op, setupId))).Value!;
        Assert.False(proof.IsVerified);
        Assert.Equal(newer.Value.Code, proof.Code); // the newer code stays current for the next attempt
    }

    [Fact]
    public async Task An_import_interrupted_by_a_restart_is_marked_failed_and_its_stored_key_deleted()
    {
        var folder = Path.Combine(Path.GetTempPath(), "cheesecave-import-restart-" + Guid.NewGuid().ToString("N"));
        using var ca = new ExternalCa();
        ca.Root("air-root", "rsa:2048");
        ca.EncryptKey("air-root", KeyPassphrase);
        int requestId;
        string keyId;
        await using (var first = new PortalFactory { Approvals = true, DataDirectory = folder, KeepData = true })
        {
            await first.CreateUserAsync("air-op", PortalRoles.Operator);
            var op = await first.PrincipalForAsync("air-op");
            await using var scope = first.Services.CreateAsyncScope();
            var wizard = new SetupSlices(scope.ServiceProvider);
            var setupId = (await wizard.Setups.CreateAsync(op, "Restart import cave")).Value!.Id;
            requestId = ApprovalTestPortal.Pending(await wizard.CaImport.ImportCaAsync(op, setupId, WithKey(ca, "air-root")));
            keyId = Assert.IsType<ImportCaPayload>(ApprovalPayload.FromJson(await first.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).Select(r => r.PayloadJson).SingleAsync()))).KeyId!;
            Assert.True(await first.WithDbAsync(db => db.ProtectedKeys.AnyAsync(k => k.KeyId == keyId)));

            // The state a crash between the claim and the end of applying leaves behind (before the CA was stored).
            await first.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, ApprovalStatus.Approved)));
        }

        await using var second = new PortalFactory { Approvals = true, DataDirectory = folder };
        Assert.Equal(ApprovalStatus.Failed, await second.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).Select(r => r.Status).SingleAsync()));
        Assert.False(await second.WithDbAsync(db => db.ProtectedKeys.AnyAsync(k => k.KeyId == keyId)));
        Assert.True(await second.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == ApprovalAuditActions.StoredKeyDeleted && a.Target == keyId)));
    }

    // ------------------------------------------------------------------ helpers

    [Fact]
    public async Task A_device_batch_approved_for_one_signing_CA_is_refused_if_another_CA_would_sign_it_by_then()
    {
        var op = await portal.UserAsync("aipin-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("aipin-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Pinned issuer cave"))).Value!.Id;
        using var ca = new ExternalCa();
        ca.Root("aipin-root");
        ca.Signed("aipin-intermediate", "aipin-root");
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w =>
            w.CaImport.ImportCaAsync(op, setupId, new CaImportRequest(ca.Bytes("aipin-root.pem")) { PrivateKeyPem = ca.Bytes("aipin-root.key.pem") }))));
        var rootSha1 = await Factory.WithDbAsync(db => db.SetupCertificates.Where(c => c.SetupId == setupId).Select(c => c.ThumbprintSha1).SingleAsync());

        // Approvers are told the root signs, and the request records it.
        var issueId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.Devices.IssueDevicesAsync(op, setupId, ["aipin-001"])));
        Assert.Equal(rootSha1, (await PayloadAsync<IssueDevicesPayload>(issueId)).IssuerSha1);
        Assert.Contains((await portal.WithApprovalsAsync(a => a.GetAsync(approver, issueId))).Value!.Facts, f => f.Label == "Issuing CA" && f.Value.EndsWith($"SHA-1 {rootSha1}", StringComparison.Ordinal));

        // Meanwhile an intermediate with its key arrives: it would now be the signer.
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w =>
            w.CaImport.ImportCaAsync(op, setupId, new CaImportRequest(ca.Bytes("aipin-intermediate.pem")) { PrivateKeyPem = ca.Bytes("aipin-intermediate.key.pem") }))));

        var result = await portal.WithApprovalsAsync(a => a.ApproveAsync(approver, issueId));
        Assert.Equal(ApprovalStatus.Failed, result.Value!.Status);
        Assert.Contains($"The CA changed since the request (it was SHA-1 {rootSha1}", result.Value.Error, StringComparison.Ordinal);
        Assert.Equal(0, await Factory.WithDbAsync(db => db.SetupDevices.CountAsync(d => d.SetupId == setupId)));
    }

    [Fact]
    public void A_device_batch_request_stored_before_the_issuer_was_recorded_still_reads()
    {
        var old = Assert.IsType<IssueDevicesPayload>(ApprovalPayload.FromJson("""{"kind":"issue-devices","RegistrationIds":["old-1"]}"""));
        Assert.Equal(["old-1"], old.RegistrationIds);
        Assert.Null(old.IssuerSha1);
    }

    private static CaImportRequest WithKey(ExternalCa ca, string name) =>
        new(ca.Bytes($"{name}.pem")) { PrivateKeyPem = ca.Bytes($"{name}.enc.key.pem"), KeyPassphrase = KeyPassphrase };

    private static string Fingerprint(ExternalCa ca, string file, string digest) =>
        ca.Run("x509", "-in", file, "-noout", "-fingerprint", digest).Split('=')[1].Trim().Replace(":", "", StringComparison.Ordinal);

    /// <summary>A setup with a DPS and an openssl-made root imported without its key (approved), uploaded unverified (approved).</summary>
    private async Task<(ClaimsPrincipal Op, ClaimsPrincipal Approver, int SetupId)> UploadedExternalRootAsync(ExternalCa ca, string name)
    {
        var op = await portal.UserAsync($"{name}-op", PortalRoles.Operator);
        var approver = await portal.UserAsync($"{name}-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, name))).Value!.Id;
        await portal.WithWizardAsync(async w =>
        {
            w.PollInterval = TimeSpan.FromMilliseconds(50);
            var dps = await w.Dps.CreateDpsAsync(op, setupId, "cheesecave-rg", $"{name}-dps", "eastus");
            Assert.True(dps.Succeeded, dps.Error?.Message);
            return true;
        });
        ca.Root($"{name}-root");
        var import = await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaImport.ImportCaAsync(op, setupId, new CaImportRequest(ca.Bytes($"{name}-root.pem"))))));
        Assert.Contains("certificate only", import.Outcome!.Text, StringComparison.Ordinal);
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.Upload.UploadCaAsync(op, setupId))));
        return (op, approver, setupId);
    }

    /// <summary>Gets a code (at once, no request) and runs the commands the portal shows, literally, against the external key.</summary>
    private async Task<string> SignCurrentCodeAsync(ExternalCa ca, ClaimsPrincipal op, int setupId, string name)
    {
        var generated = await portal.WithWizardAsync(w => w.ManualProof.GenerateVerificationCodeAsync(op, setupId));
        Assert.True(generated.Succeeded, generated.Error?.Message);
        Assert.Null(generated.Pending);
        var proof = generated.Value!;
        var download = (await portal.WithWizardAsync(w => w.CaDownloads.DownloadCertificateAsync(op, setupId, proof.CertificateId, der: false))).Value!;
        File.WriteAllBytes(ca.PathOf(download.FileName), download.Content);
        File.Copy(ca.PathOf($"{name}-root.key.pem"), ca.PathOf("ca.key.pem"), overwrite: true);
        ca.RunScript(proof.OpenSslCommands!);
        return proof.Code!;
    }

    private async Task<T> PayloadAsync<T>(int requestId)
        where T : ApprovalPayload =>
        Assert.IsType<T>(ApprovalPayload.FromJson(await Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).Select(r => r.PayloadJson).SingleAsync())));

    private async Task<T> WithKeysAsync<T>(Func<IKeyStore, Task<T>> use)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await use(scope.ServiceProvider.GetRequiredService<IKeyStore>());
    }

    private Task<bool> KeyExistsAsync(string keyId) => WithKeysAsync(k => k.ExistsAsync(keyId));

    private Task<ApprovalStatus> StatusAsync(int requestId) =>
        Factory.WithDbAsync(db => db.ApprovalRequests.Where(r => r.Id == requestId).Select(r => r.Status).SingleAsync());

    private static async Task<HttpResponseMessage> PostImportAsync(HttpClient client, int setupId, byte[] certificate, params (string Field, byte[] Bytes)[] files)
    {
        var token = await Forms.AntiforgeryTokenAsync(client, $"/setups/{setupId}/ca");
        using var content = new MultipartFormDataContent { { new StringContent(token), "__RequestVerificationToken" } };
        var file = new ByteArrayContent(certificate);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(file, CaImportEndpoint.FieldCertificate, "ca.pem");
        foreach (var (field, bytes) in files)
        {
            content.Add(new ByteArrayContent(bytes), field, field + ".pem");
        }

        return await client.PostAsync(new Uri($"/setups/{setupId}/ca/import", UriKind.Relative), content);
    }
}
