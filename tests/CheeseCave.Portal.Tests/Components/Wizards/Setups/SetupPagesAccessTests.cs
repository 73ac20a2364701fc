using System.Net;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>The wizard pages: signed-in users only; Viewers see setups read-only, without any way to change them.</summary>
public sealed class SetupPagesAccessTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Anonymous_visitors_are_sent_to_sign_in()
    {
        using var client = factory.CreatePortalClient();
        using var list = await client.GetAsync(new Uri("/setups", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, list.StatusCode);
        Assert.StartsWith("/account/login", Forms.RedirectPath(list), StringComparison.Ordinal);
        using var step = await client.GetAsync(new Uri("/setups/1/dps", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, step.StatusCode);
    }

    [Fact]
    public async Task A_viewer_sees_the_setup_read_only_and_an_operator_can_create_one()
    {
        await factory.CreateUserAsync("page-op", PortalRoles.Operator);
        await factory.CreateUserAsync("page-viewer", PortalRoles.Viewer);
        int id;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            id = (await new SetupSlices(scope.ServiceProvider).Setups.CreateAsync(await factory.PrincipalForAsync("page-op"), "Page cave")).Value!.Id;
        }

        using var viewer = await factory.SignedInClientAsync("page-viewer");
        var list = await Forms.GetPageAsync(viewer, "/setups");
        Assert.Contains("data-setup-row=\"Page cave\"", list, StringComparison.Ordinal);
        Assert.DoesNotContain("data-panel=\"new-setup\"", list, StringComparison.Ordinal);
        var step = await Forms.GetPageAsync(viewer, $"/setups/{id}/dps");
        Assert.Contains("data-read-only", step, StringComparison.Ordinal);
        Assert.Contains("An Operator creates or picks it.", step, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"dps-name\"", step, StringComparison.Ordinal);

        using var op = await factory.SignedInClientAsync("page-op");
        Assert.Contains("data-panel=\"new-setup\"", await Forms.GetPageAsync(op, "/setups"), StringComparison.Ordinal);
        var opStep = await Forms.GetPageAsync(op, $"/setups/{id}/dps");
        Assert.DoesNotContain("data-read-only", opStep, StringComparison.Ordinal);
        Assert.Contains("id=\"dps-name\"", opStep, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_viewer_sees_issued_devices_with_certificate_links_only_and_cannot_issue_or_test()
    {
        await factory.CreateUserAsync("page-dev-op", PortalRoles.Operator);
        await factory.CreateUserAsync("page-dev-viewer", PortalRoles.Viewer);
        int id;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var wizard = new SetupSlices(scope.ServiceProvider);
            var op = await factory.PrincipalForAsync("page-dev-op");
            id = (await wizard.Setups.CreateAsync(op, "Page devices")).Value!.Id;
            Assert.True((await wizard.CaGeneration.GenerateCaAsync(op, id, "Page Root", "Page Intermediate", CheeseCave.Pki.ProfilePreset.Recommended)).Succeeded);
            Assert.True((await wizard.Devices.IssueDevicesAsync(op, id, ["page-001"])).Succeeded);
        }

        using var viewer = await factory.SignedInClientAsync("page-dev-viewer");
        var devices = await Forms.GetPageAsync(viewer, $"/setups/{id}/devices");
        Assert.Contains("data-device=\"page-001\"", devices, StringComparison.Ordinal);
        Assert.Contains("page-001.cert.pem", devices, StringComparison.Ordinal);
        Assert.DoesNotContain(".key.pem", devices, StringComparison.Ordinal);
        Assert.DoesNotContain("data-download=\"pfx\"", devices, StringComparison.Ordinal);
        Assert.DoesNotContain("data-download=\"key\"", devices, StringComparison.Ordinal);
        Assert.DoesNotContain("data-panel=\"issue-devices\"", devices, StringComparison.Ordinal);
        Assert.Contains("data-read-only", await Forms.GetPageAsync(viewer, $"/setups/{id}/enrollment"), StringComparison.Ordinal);

        using var operatorClient = await factory.SignedInClientAsync("page-dev-op");
        var opDevices = await Forms.GetPageAsync(operatorClient, $"/setups/{id}/devices");
        Assert.Contains("page-001.key.pem", opDevices, StringComparison.Ordinal);
        Assert.Contains("data-panel=\"issue-devices\"", opDevices, StringComparison.Ordinal);
    }
}
