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
        var id = await ApprovedSetupAsync(driver, op, admin);

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

    private async Task<int> ApprovedSetupAsync(RolloverDriver driver, System.Security.Claims.ClaimsPrincipal op, System.Security.Claims.ClaimsPrincipal admin)
    {
        var wizard = driver.Wizard;
        wizard.PollInterval = TimeSpan.FromMilliseconds(50);
        var id = (await wizard.Setups.CreateAsync(op, "racave")).Value!.Id;
        Assert.True((await wizard.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "racave-dps", "eastus")).Succeeded);
        Assert.True((await wizard.Hubs.CreateHubAsync(op, id, "racave-hub", "eastus")).Succeeded);
        Assert.True((await wizard.Hubs.LinkHubAsync(op, id, "racave-hub", "iothubowner", 1, true)).Succeeded);
        await _portal.ApproveAppliedAsync(admin, ApprovalTestPortal.Pending(await wizard.CaGeneration.GenerateCaAsync(op, id, "racave Root", null, CheeseCave.Pki.ProfilePreset.Recommended)));
        await _portal.ApproveAppliedAsync(admin, ApprovalTestPortal.Pending(await wizard.Upload.UploadCaAsync(op, id)));
        await _portal.ApproveAppliedAsync(admin, ApprovalTestPortal.Pending(await wizard.OneClickProof.VerifyCaAsync(op, id)));
        var root = (await wizard.Setups.GetAsync(op, id)).Value!.Root!;
        await _portal.ApproveAppliedAsync(admin, ApprovalTestPortal.Pending(await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id,
            new CheeseCave.Portal.Setups.Enrollment.EnrollmentGroupForm { GroupId = "racave-devices", PrimaryCa = root.DpsCertificateName! })));
        await _portal.ApproveAppliedAsync(admin, ApprovalTestPortal.Pending(await wizard.Devices.IssueDevicesAsync(op, id, ["racave-001"])));
        return id;
    }
}
