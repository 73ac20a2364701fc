using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Revocation;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.Revocation;

/// <summary>Revoking one device of a group against the embedded emulator: DPS refuses it, its sibling still registers, restore lets it back.</summary>
public sealed class DeviceRevocationTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Revoking_a_device_blocks_it_in_dps_and_its_hub_while_its_sibling_still_registers_and_restoring_lets_it_back()
    {
        await factory.CreateUserAsync("rv-op", PortalRoles.Operator);
        await factory.CreateUserAsync("rv-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync("rv-op");
        var viewer = await factory.PrincipalForAsync("rv-viewer");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var revocation = scope.ServiceProvider.GetRequiredService<DeviceRevocationHandler>();
        var reader = scope.ServiceProvider.GetRequiredService<DeviceCertificateReader>();
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "rvcave", intermediate: true);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = "rvcave-devices", PrimaryCa = view.Root!.DpsCertificateName! })).Succeeded);
        var batch = (await wizard.Devices.IssueDevicesAsync(op, id, ["rvcave-001", "rvcave-002"])).Value!;
        var (stolen, sibling) = (batch.Devices[0], batch.Devices[1]);
        Assert.True((await wizard.Testing.TestRegistrationAsync(op, id, stolen.Id, DeviceTransport.Https)).Value!.Assigned);

        // Not registered yet is fine: the sibling has never registered, and viewers may not revoke.
        Assert.True((await revocation.RevokeDeviceAsync(viewer, stolen.Id, "stolen")).Error!.Denied);
        var noReason = await revocation.RevokeDeviceAsync(op, stolen.Id, "  ");
        Assert.Contains("reason is required", noReason.Error!.Message, StringComparison.Ordinal);

        var revoked = await revocation.RevokeDeviceAsync(op, stolen.Id, "stolen from the cave");
        Assert.True(revoked.Succeeded, revoked.Error?.Message);
        Assert.True(revoked.Value!.Revoked);
        Assert.Equal($"{view.LinkedHubs.Single().HostName}/rvcave-001", revoked.Value.HubDevice);
        var row = await factory.WithDbAsync(db => db.SetupDevices.SingleAsync(d => d.Id == stolen.Id));
        Assert.Equal("rv-op", row.RevokedBy);
        Assert.Equal("stolen from the cave", row.RevocationReason);
        Assert.NotNull(row.RevokedAt);

        var live = (await reader.ReadRegistrationAsync(viewer, stolen.Id)).Value!;
        Assert.Equal("individual enrollment, disabled", live.IndividualEnrollment);
        Assert.StartsWith("disabled", live.HubStatus, StringComparison.Ordinal);
        Assert.Equal(DeviceCertificateStatus.Revoked, (await reader.GetDeviceAsync(viewer, stolen.Id)).Value!.Status);

        foreach (var transport in new[] { DeviceTransport.Https, DeviceTransport.Mqtt })
        {
            var refused = (await wizard.Testing.TestRegistrationAsync(op, id, stolen.Id, transport)).Value!;
            Assert.False(refused.Assigned, $"{transport}: the revoked device was assigned");
            var registered = (await wizard.Testing.TestRegistrationAsync(op, id, sibling.Id, transport)).Value!;
            Assert.True(registered.Assigned, $"{transport}: {registered.ErrorCode} {registered.ErrorMessage}");
        }

        var again = await revocation.RevokeDeviceAsync(op, stolen.Id, "again");
        Assert.Contains("already revoked", again.Error!.Message, StringComparison.Ordinal);

        var restored = await revocation.RestoreDeviceAsync(op, stolen.Id);
        Assert.True(restored.Succeeded, restored.Error?.Message);
        Assert.False(restored.Value!.Revoked);
        Assert.Null((await factory.WithDbAsync(db => db.SetupDevices.SingleAsync(d => d.Id == stolen.Id))).RevokedAt);
        var back = (await wizard.Testing.TestRegistrationAsync(op, id, stolen.Id, DeviceTransport.Https)).Value!;
        Assert.True(back.Assigned, $"{back.ErrorCode} {back.ErrorMessage}");
        Assert.StartsWith("enabled", (await reader.ReadRegistrationAsync(viewer, stolen.Id)).Value!.HubStatus, StringComparison.Ordinal);
        Assert.Contains("is not revoked", (await revocation.RestoreDeviceAsync(op, stolen.Id)).Error!.Message, StringComparison.Ordinal);

        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "rv-op" && a.Action == LifecycleAuditActions.DeviceRevoked && a.Outcome == AuditOutcomes.Succeeded)));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "rv-op" && a.Action == LifecycleAuditActions.DeviceRestored && a.Outcome == AuditOutcomes.Succeeded)));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "rv-viewer" && a.Action == LifecycleAuditActions.DeviceRevoked && a.Outcome == AuditOutcomes.Denied)));
    }

    [Fact]
    public async Task Revoking_a_CA_warns_what_it_shuts_out_then_disables_its_group_and_retires_it()
    {
        await factory.CreateUserAsync("rvca-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("rvca-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var cas = scope.ServiceProvider.GetRequiredService<CaRevocationHandler>();
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "rvca");
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = "rvca-devices", PrimaryCa = view.Root!.DpsCertificateName! })).Succeeded);
        var device = (await wizard.Devices.IssueDevicesAsync(op, id, ["rvca-001"])).Value!.Devices.Single();

        var impact = (await cas.ImpactAsync(op, view.Root.Id)).Value!;
        Assert.Equal(["rvca-devices"], impact.EnrollmentGroups);
        Assert.Equal(1, impact.ActiveDevices);
        Assert.Contains("rvca-devices will be disabled", impact.Warning, StringComparison.Ordinal);

        var revoked = await cas.RevokeCaAsync(op, view.Root.Id);
        Assert.True(revoked.Succeeded, revoked.Error?.Message);
        Assert.Equal(["rvca-devices"], revoked.Value!.DisabledGroups);
        Assert.True(revoked.Value.DpsCertificateDeleted);
        Assert.NotNull((await factory.WithDbAsync(db => db.SetupCertificates.SingleAsync(c => c.Id == view.Root.Id))).RetiredAt);
        Assert.False((await wizard.Testing.TestRegistrationAsync(op, id, device.Id, DeviceTransport.Https)).Value!.Assigned);
        Assert.Contains("already retired", (await cas.RevokeCaAsync(op, view.Root.Id)).Error!.Message, StringComparison.Ordinal);
    }
}
