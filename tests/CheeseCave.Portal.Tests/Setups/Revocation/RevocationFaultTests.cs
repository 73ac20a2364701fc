using CheeseCave.Emulator.Hosting;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Revocation;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Tests.Setups.Revocation;

/// <summary>
/// Revoking while DPS or the hub cannot be reached: one clear sentence, nothing recorded that DPS and the hub did not
/// confirm, and the same action succeeds once the fault is gone. The DPS outage is the embedded emulator's own fault
/// injection (every DPS service request answers 503, so the client's retries run out); the hub outage is the hub
/// really gone from the subscription after DPS assigned the device to it.
/// </summary>
public sealed class RevocationFaultTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Revoking_while_DPS_is_unreachable_says_so_in_one_sentence_records_nothing_and_works_once_DPS_is_back()
    {
        await factory.CreateUserAsync("fault-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("fault-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var revocation = scope.ServiceProvider.GetRequiredService<DeviceRevocationHandler>();
        var reader = scope.ServiceProvider.GetRequiredService<DeviceCertificateReader>();
        var (setupId, device) = await RegisteredDeviceAsync(wizard, op, "dpsfault");

        var serviceFaults = DpsServiceFaults();
        serviceFaults.UnavailableRate = 1; // every DPS service-API request: 503
        PortalResult<DeviceRevocationView> failed;
        try
        {
            failed = await revocation.RevokeDeviceAsync(op, device.Id, "stolen during an outage");
        }
        finally
        {
            serviceFaults.UnavailableRate = 0;
        }

        Assert.False(failed.Succeeded);
        var error = failed.Error!;
        Assert.True(error.IsTransient, error.Message);
        Assert.Equal(503, error.Status);
        Assert.Equal("DPS answered 503 instead of confirming, so 'dpsfault-001' was not revoked and nothing was changed.", error.Message);
        Assert.True(Sentences(error.Message).Length == 1, error.Message);
        Assert.Contains("try again", error.WhatToDo, StringComparison.OrdinalIgnoreCase);

        // Nothing recorded, nothing half-done in DPS: no blocking enrollment, the hub identity still enabled.
        Assert.Null((await factory.WithDbAsync(db => db.SetupDevices.SingleAsync(d => d.Id == device.Id))).RevokedAt);
        var live = (await reader.ReadRegistrationAsync(op, device.Id)).Value!;
        Assert.Null(live.IndividualEnrollment);
        Assert.StartsWith("enabled", live.HubStatus, StringComparison.Ordinal);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Actor == "fault-op" && a.Action == LifecycleAuditActions.DeviceRevoked && a.Outcome == AuditOutcomes.Failed)));

        var retried = await revocation.RevokeDeviceAsync(op, device.Id, "stolen during an outage");
        Assert.True(retried.Succeeded, retried.Error?.Message);
        Assert.NotNull((await factory.WithDbAsync(db => db.SetupDevices.SingleAsync(d => d.Id == device.Id))).RevokedAt);
        Assert.False((await wizard.Testing.TestRegistrationAsync(op, setupId, device.Id, DeviceTransport.Https)).Value!.Assigned);

        // Restoring during an outage: refused the same way, the device stays revoked (in DPS and in the portal).
        serviceFaults.UnavailableRate = 1;
        PortalResult<DeviceRevocationView> notRestored;
        try
        {
            notRestored = await revocation.RestoreDeviceAsync(op, device.Id);
        }
        finally
        {
            serviceFaults.UnavailableRate = 0;
        }

        Assert.Equal("DPS answered 503 instead of confirming, so 'dpsfault-001' was not restored and nothing was changed.", notRestored.Error!.Message);
        Assert.NotNull((await factory.WithDbAsync(db => db.SetupDevices.SingleAsync(d => d.Id == device.Id))).RevokedAt);
        Assert.Equal("individual enrollment, disabled", (await reader.ReadRegistrationAsync(op, device.Id)).Value!.IndividualEnrollment);
        Assert.True((await revocation.RestoreDeviceAsync(op, device.Id)).Succeeded);
        Assert.True((await wizard.Testing.TestRegistrationAsync(op, setupId, device.Id, DeviceTransport.Https)).Value!.Assigned);
    }

    [Fact]
    public async Task Revoking_when_the_hub_is_gone_keeps_the_DPS_block_records_nothing_and_revoking_again_finishes_once_the_hub_is_back()
    {
        await factory.CreateUserAsync("hubfault-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("hubfault-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var revocation = scope.ServiceProvider.GetRequiredService<DeviceRevocationHandler>();
        var reader = scope.ServiceProvider.GetRequiredService<DeviceCertificateReader>();
        var (setupId, device) = await RegisteredDeviceAsync(wizard, op, "hubfault");
        var arm = wizard.Pipeline.Provisioning.CreateArmClient(op);
        Assert.True(await arm.DeleteIotHubAsync("cheesecave-rg", "hubfault-hub"));

        var failed = await revocation.RevokeDeviceAsync(op, device.Id, "lost");
        Assert.False(failed.Succeeded);
        Assert.StartsWith("DPS now refuses 'hubfault-001'", failed.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("is not in this subscription", failed.Error.Message, StringComparison.Ordinal);
        Assert.Contains("Revoke again to finish", failed.Error.WhatToDo, StringComparison.Ordinal);
        Assert.Null((await factory.WithDbAsync(db => db.SetupDevices.SingleAsync(d => d.Id == device.Id))).RevokedAt);
        Assert.False((await wizard.Testing.TestRegistrationAsync(op, setupId, device.Id, DeviceTransport.Https)).Value!.Assigned); // DPS did block it

        Assert.True((await wizard.Hubs.CreateHubAsync(op, setupId, "hubfault-hub", "eastus")).Succeeded);
        var finished = await revocation.RevokeDeviceAsync(op, device.Id, "lost");
        Assert.True(finished.Succeeded, finished.Error?.Message);
        Assert.EndsWith("/hubfault-001", finished.Value!.HubDevice, StringComparison.Ordinal);
        Assert.Equal("lost", (await factory.WithDbAsync(db => db.SetupDevices.SingleAsync(d => d.Id == device.Id))).RevocationReason);
        Assert.StartsWith("disabled", (await reader.ReadRegistrationAsync(op, device.Id)).Value!.HubStatus, StringComparison.Ordinal);
    }

    private SurfaceFaults DpsServiceFaults() =>
        factory.Services.GetRequiredService<IOptions<CheeseCaveOptions>>().Value.Emulator.Faults.Service; // the emulator reads it per request

    private static async Task<(int SetupId, CheeseCave.Portal.Setups.Devices.SetupDeviceView Device)> RegisteredDeviceAsync(SetupSlices wizard, System.Security.Claims.ClaimsPrincipal op, string name)
    {
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, name);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = $"{name}-devices", PrimaryCa = view.Root!.DpsCertificateName! })).Succeeded);
        var device = (await wizard.Devices.IssueDevicesAsync(op, id, [$"{name}-001"])).Value!.Devices.Single();
        Assert.True((await wizard.Testing.TestRegistrationAsync(op, id, device.Id, DeviceTransport.Https)).Value!.Assigned);
        return (id, device);
    }

    private static string[] Sentences(string message) =>
        message.Split([". ", "! ", "? "], StringSplitOptions.RemoveEmptyEntries);
}
