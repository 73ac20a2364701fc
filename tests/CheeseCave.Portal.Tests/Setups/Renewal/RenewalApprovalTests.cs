using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Renewal;
using CheeseCave.Portal.Setups.Revocation;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Renewal;

/// <summary>Renewal and revocation behind four eyes: recorded, nothing changed, applied once by another approver.</summary>
public sealed class RenewalApprovalTests(ApprovalTestPortal portal) : IClassFixture<ApprovalTestPortal>
{
    [Fact]
    public async Task A_renewal_waits_for_approval_then_is_applied_for_the_requester_and_a_revocation_is_recorded_with_its_reason()
    {
        var op = await portal.UserAsync("ap-rn-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("ap-rn-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Renewal approval cave"))).Value!.Id;
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Renew Root", null, ProfilePreset.Recommended))));
        await portal.ApproveAppliedAsync(approver, ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.Devices.IssueDevicesAsync(op, setupId, ["rn-ap-001"]))));
        var deviceId = await portal.Factory.WithDbAsync(db => db.SetupDevices.Where(d => d.SetupId == setupId).Select(d => d.Id).SingleAsync());

        await using var scope = portal.Factory.Services.CreateAsyncScope();
        var renewal = scope.ServiceProvider.GetRequiredService<DeviceRenewalHandler>();
        var requestId = ApprovalTestPortal.Pending(await renewal.RenewDeviceAsync(op, deviceId, null));
        var request = (await portal.WithApprovalsAsync(a => a.GetAsync(approver, requestId))).Value!;
        Assert.Contains(request.Facts, f => f.Label == "Registration id" && f.Value == "rn-ap-001");
        Assert.Contains(request.Facts, f => f.Label == "Issuing CA" && f.Value.Contains("Renew Root", StringComparison.Ordinal));
        Assert.Equal(1, await portal.Factory.WithDbAsync(db => db.SetupDevices.CountAsync(d => d.SetupId == setupId))); // nothing yet

        var applied = await portal.ApproveAppliedAsync(approver, requestId);
        Assert.True(applied.Outcome!.HasSecret); // the PFX password goes to the requester, not the approver
        var rows = await portal.Factory.WithDbAsync(db => db.SetupDevices.Where(d => d.SetupId == setupId).OrderBy(d => d.Id).ToListAsync());
        Assert.Equal(2, rows.Count);
        Assert.Equal(rows[1].Id, rows[0].SupersededByDeviceId);
        Assert.Equal("ap-rn-op", rows[1].RequestedBy);
        Assert.Equal("ap-rn-approver", rows[1].ApprovedBy);

        // A bad CSR is refused when asked, so approvers never see it.
        var badCsr = await renewal.RenewDeviceAsync(op, rows[1].Id, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----");
        Assert.False(badCsr.IsPending);
        Assert.NotNull(badCsr.Error);

        var revocation = scope.ServiceProvider.GetRequiredService<DeviceRevocationHandler>();
        var revokeId = ApprovalTestPortal.Pending(await revocation.RevokeDeviceAsync(op, rows[1].Id, "lost in the cave"));
        var revokeRequest = (await portal.WithApprovalsAsync(a => a.GetAsync(approver, revokeId))).Value!;
        Assert.Contains(revokeRequest.Facts, f => f.Label == "Reason" && f.Value == "lost in the cave");
        Assert.Null((await portal.Factory.WithDbAsync(db => db.SetupDevices.SingleAsync(d => d.Id == rows[1].Id))).RevokedAt);
        Assert.Contains("reason is required", (await revocation.RevokeDeviceAsync(op, rows[1].Id, "")).Error!.Message, StringComparison.Ordinal);
    }
}
