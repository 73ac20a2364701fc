using System.Security.Claims;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Setups.HubDevices;

/// <summary>A setup through step 9 with one issued device ({name}-001) and, unless asked not to, its test registration (which ran the hub check).</summary>
internal static class TestedSetup
{
    public static async Task<(int Id, ClaimsPrincipal Op, ClaimsPrincipal Viewer)> CreateAsync(PortalFactory factory, string name, bool test = true)
    {
        await factory.CreateUserAsync($"{name}-op", PortalRoles.Operator);
        await factory.CreateUserAsync($"{name}-viewer", PortalRoles.Viewer);
        var op = await factory.PrincipalForAsync($"{name}-op");
        var viewer = await factory.PrincipalForAsync($"{name}-viewer");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, name, intermediate: true);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = $"{name}-devices", PrimaryCa = view.Root!.DpsCertificateName! })).Succeeded);
        var device = (await wizard.Devices.IssueDevicesAsync(op, id, [$"{name}-001"])).Value!.Devices.Single();
        if (test)
        {
            var tested = await wizard.Testing.TestRegistrationAsync(op, id, device.Id, DeviceTransport.Mqtt);
            Assert.True(tested.Value!.Assigned, tested.Value.ErrorMessage);
            Assert.True(tested.Value.Hub!.Succeeded);
        }

        return (id, op, viewer);
    }
}
