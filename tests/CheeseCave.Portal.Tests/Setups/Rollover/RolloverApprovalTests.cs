using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Rollover;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Rollover;

/// <summary>Four eyes on the rollover: a step waits for a colleague, changes nothing until approved, then applies once.</summary>
public sealed class RolloverApprovalTests : IClassFixture<ApprovalTestPortal>
{
    private readonly ApprovalTestPortal _portal;

    public RolloverApprovalTests(ApprovalTestPortal portal) => _portal = portal;

    [Fact]
    public async Task Starting_and_retiring_wait_for_an_approver_and_apply_once_approved()
    {
        var op = await _portal.UserAsync("ra-op", PortalRoles.Operator);
        var approver = await _portal.UserAsync("ra-approver", PortalRoles.Approver);
        var admin = await _portal.UserAsync("ra-admin", PortalRoles.Administrator);
        await using var scope = _portal.Factory.Services.CreateAsyncScope();
        var driver = new RolloverDriver(scope.ServiceProvider);

        // The set-up itself is approved step by step by the administrator; the test is about the rollover.
        var id = await ApprovedSetupAsync(driver, op, admin, "racave");

        var start = await driver.Start.StartRolloverAsync(op, id, new RolloverStartForm { RootSubject = "racave Root 2" });
        var request = ApprovalTestPortal.Pending(start);
        Assert.Null((await driver.Reader.GetRolloverAsync(op, id)).Value!.Rollover);
        await _portal.ApproveAppliedAsync(approver, request);
        Assert.Equal(RolloverStage.CaCreated, (await driver.OpenAsync(op, id)).Stage);

        await _portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await driver.Ca.UploadNewCaAsync(op, id)));
        await _portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await driver.Ca.ProveNewCaAsync(op, id)));
        var trust = ApprovalTestPortal.Pending(await driver.Groups.TrustNewCaAsync(op, id));
        Assert.Equal(RolloverStage.Verified, (await driver.OpenAsync(op, id)).Stage); // nothing until approved
        RolloverDriver.Refused(await driver.Groups.RetireOldCaAsync(op, id), "does not trust the new CA"); // refused, not recorded
        await _portal.ApproveAppliedAsync(approver, trust);
        await _portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await driver.Reissue.ReissueDevicesAsync(op, id)));
        var retire = ApprovalTestPortal.Pending(await driver.Groups.RetireOldCaAsync(op, id));
        var applied = await _portal.ApproveAppliedAsync(approver, retire);
        Assert.Equal(ApprovalAction.RetireCa, applied.Action);
        var old = await _portal.Factory.WithDbAsync(db => db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == id && c.Kind == SetupCertificateKind.Root).OrderBy(c => c.Id).FirstAsync());
        Assert.Equal("ra-op", old.RetiredBy);
        Assert.True(await _portal.Factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "ra-approver" && a.Action == RolloverAuditActions.Retired && a.Outcome == AuditOutcomes.Succeeded && a.Detail!.Contains("applied for ra-op"))));
    }

    [Fact]
    public async Task An_imported_new_ca_a_proof_by_hand_and_a_cancellation_each_wait_for_an_approver()
    {
        using var ca = new ExternalCa();
        var op = await _portal.UserAsync("rp-op", PortalRoles.Operator);
        var approver = await _portal.UserAsync("rp-approver", PortalRoles.Approver);
        var admin = await _portal.UserAsync("rp-admin", PortalRoles.Administrator);
        await using var scope = _portal.Factory.Services.CreateAsyncScope();
        var driver = new RolloverDriver(scope.ServiceProvider);
        var id = await ApprovedSetupAsync(driver, op, admin, "rpcave");
        var old = await _portal.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.SetupId == id));

        // The key is stored encrypted with the request; nothing is imported until a colleague approves.
        ca.Root("rpcave-root-2028");
        var import = await driver.Import.ImportNewCaAsync(op, id, new CheeseCave.Portal.Setups.CertificateAuthority.CaImportRequest(ca.Bytes("rpcave-root-2028.pem"))
        {
            PrivateKeyPem = ca.Bytes("rpcave-root-2028.key.pem"),
        }, RolloverGroupMode.SwapInGroup, null);
        var request = ApprovalTestPortal.Pending(import);
        Assert.Null((await driver.Reader.GetRolloverAsync(op, id)).Value!.Rollover);
        Assert.Equal(ApprovalAction.ImportCa, (await _portal.ApproveAppliedAsync(approver, request)).Action);
        var view = await driver.OpenAsync(op, id);
        Assert.True(view.NewCa.IsImported);
        Assert.True(view.NewCa.HasKey);

        await _portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await driver.Ca.UploadNewCaAsync(op, id)));
        var code = await driver.Proof.GenerateVerificationCodeAsync(op, id);
        RolloverDriver.Ok(code);
        File.Copy(ca.PathOf("rpcave-root-2028.key.pem"), ca.PathOf("ca.key.pem"));
        ca.RunScript(code.Value!.Commands!);
        var proof = ApprovalTestPortal.Pending(await driver.Proof.SubmitVerificationCertificateAsync(op, id, ca.Bytes(CheeseCave.Portal.Setups.ProofOfPossession.VerificationCommands.OutputFile)));
        Assert.Equal(RolloverStage.Uploaded, (await driver.OpenAsync(op, id)).Stage);
        await _portal.ApproveAppliedAsync(approver, proof);
        Assert.True((await driver.OpenAsync(op, id)).NewCa.IsVerified);
        await _portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await driver.Groups.TrustNewCaAsync(op, id)));

        var cancel = ApprovalTestPortal.Pending(await driver.Cancel.CancelRolloverAsync(op, id));
        Assert.Equal(RolloverStage.Trusted, (await driver.OpenAsync(op, id)).Stage); // nothing until approved
        await _portal.ApproveAppliedAsync(approver, cancel);
        var overview = (await driver.Reader.GetRolloverAsync(op, id)).Value!;
        Assert.Null(overview.Rollover);
        Assert.Equal("rp-op", overview.LastFinished!.CancelledBy);
        var group = (await driver.Wizard.Enrollment.GetEnrollmentGroupAsync(op, id)).Value!;
        Assert.Equal(view.OldCa.DpsCertificateName, group.PrimaryCa);
        Assert.Null(group.SecondaryCa);
        Assert.True((await driver.RegisterAsync(op, id, old.Id)).Assigned);
    }

    private async Task<int> ApprovedSetupAsync(RolloverDriver driver, System.Security.Claims.ClaimsPrincipal op, System.Security.Claims.ClaimsPrincipal admin, string name)
    {
        var wizard = driver.Wizard;
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.Setups.CreateAsync(op, name)).Value!.Id;
        Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", $"{name}-dps", "eastus")).Succeeded);
        Assert.True((await wizard.Hubs.CreateHubAsync(op, id, $"{name}-hub", "eastus")).Succeeded);
        Assert.True((await wizard.Hubs.LinkHubAsync(op, id, $"{name}-hub", "iothubowner", 1, true)).Succeeded);
        await _portal.ApproveAppliedAsync(admin, ApprovalTestPortal.Pending(await wizard.CaGeneration.GenerateCaAsync(op, id, $"{name} Root", null, CheeseCave.Pki.ProfilePreset.Recommended)));
        await _portal.ApproveAppliedAsync(admin, ApprovalTestPortal.Pending(await wizard.Upload.UploadCaAsync(op, id)));
        await _portal.ApproveAppliedAsync(admin, ApprovalTestPortal.Pending(await wizard.OneClickProof.VerifyCaAsync(op, id)));
        var root = (await wizard.Setups.GetAsync(op, id)).Value!.Root!;
        await _portal.ApproveAppliedAsync(admin, ApprovalTestPortal.Pending(await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id,
            new CheeseCave.Portal.Setups.Enrollment.EnrollmentGroupForm { GroupId = $"{name}-devices", PrimaryCa = root.DpsCertificateName! })));
        await _portal.ApproveAppliedAsync(admin, ApprovalTestPortal.Pending(await wizard.Devices.IssueDevicesAsync(op, id, [$"{name}-001"])));
        return id;
    }
}
