using System.Security.Claims;
using Bunit;
using CheeseCave.Portal.Components.Pages.Certificates;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Components.Pages.Certificates;

/// <summary>
/// bUnit: the device and CA certificate pages rendered against the real portal services (database, embedded
/// emulator). The caller's real principal goes to the handlers (they re-check the role); the page's AuthorizeView
/// gets the policies that role holds.
/// </summary>
public sealed class CertificatePagesTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private static readonly TimeSpan Live = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_operator_sees_the_facts_where_DPS_has_the_device_and_the_actions_and_a_viewer_sees_no_actions()
    {
        var (op, viewer, _, devices) = await PreparedAsync("pg1");
        await using var scope = factory.Services.CreateAsyncScope();

        await using var opCtx = NewContext(scope, "pg1-op", PortalPolicies.RequireViewer, PortalPolicies.RequireOperator);
        var page = opCtx.Render<DeviceCertificatePage>(p => p.Add(d => d.Id, devices[0]).AddCascadingValue(As(op)));
        page.WaitForAssertion(() => Assert.Contains("assigned", page.Find("[data-dps-status]").TextContent, StringComparison.OrdinalIgnoreCase), Live);
        Assert.Equal("pg1-001", page.Find("[data-device-title]").TextContent.Trim());
        Assert.Equal("Active", page.Find("[data-device-status]").GetAttribute("data-device-status"));
        Assert.Contains("pg1-hub", page.Find("[data-dps-state]").TextContent, StringComparison.Ordinal);
        Assert.StartsWith("enabled", page.Find("[data-hub-status]").TextContent.Trim(), StringComparison.Ordinal);
        Assert.Single(page.FindAll("[data-history-row]"));
        Assert.NotNull(page.Find("[data-revoke]"));
        Assert.NotNull(page.Find("[data-renew-key]"));
        Assert.NotNull(page.Find("[data-renew-csr]"));
        Assert.Empty(page.FindAll("[data-restore]"));

        await using var viewerCtx = NewContext(scope, "pg1-viewer", PortalPolicies.RequireViewer);
        var asViewer = viewerCtx.Render<DeviceCertificatePage>(p => p.Add(d => d.Id, devices[0]).AddCascadingValue(As(viewer)));
        asViewer.WaitForAssertion(() => Assert.NotNull(asViewer.Find("[data-dps-status]")), Live);
        Assert.NotNull(asViewer.Find("[data-device-facts]"));
        Assert.Empty(asViewer.FindAll("[data-actions]"));
        Assert.Empty(asViewer.FindAll("[data-revoke]"));
        Assert.Empty(asViewer.FindAll("[data-download-pfx]")); // keys are the issuer's alone
    }

    [Fact]
    public async Task Revoking_on_the_page_asks_for_a_reason_shows_the_refusal_with_what_to_do_then_revokes_and_offers_restore()
    {
        var (op, _, _, devices) = await PreparedAsync("pg2");
        await using var scope = factory.Services.CreateAsyncScope();
        await using var ctx = NewContext(scope, "pg2-op", PortalPolicies.RequireViewer, PortalPolicies.RequireOperator);
        var dialogs = ctx.Render<MudDialogProvider>();
        var page = ctx.Render<DeviceCertificatePage>(p => p.Add(d => d.Id, devices[0]).AddCascadingValue(As(op)));
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-dps-status]")), Live);

        // No reason: the handler's sentence and what to do, nothing revoked.
        await page.InvokeAsync(() => page.Find("[data-revoke]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("Other devices of the group keep working", dialogs.Markup, StringComparison.Ordinal), Live);
        await dialogs.InvokeAsync(() => dialogs.Find("[data-confirm]").Click());
        page.WaitForAssertion(() => Assert.Contains("reason is required", page.Find("[data-setup-error]").TextContent, StringComparison.Ordinal), Live);
        Assert.Equal("Active", page.Find("[data-device-status]").GetAttribute("data-device-status"));

        await page.InvokeAsync(() => page.Find("[data-revoke]").Click());
        dialogs.WaitForAssertion(() => Assert.NotNull(dialogs.Find("input[data-reason], [data-reason] input")), Live);
        dialogs.Find("input[data-reason], [data-reason] input").Change("lost on the cheese run");
        await dialogs.InvokeAsync(() => dialogs.Find("[data-confirm]").Click());
        page.WaitForAssertion(() => Assert.Equal("Revoked", page.Find("[data-device-status]").GetAttribute("data-device-status")), Live);
        Assert.Contains("is revoked: DPS refuses it", page.Find("[data-done]").TextContent, StringComparison.Ordinal);
        Assert.Contains("lost on the cheese run", page.Find("[data-revoked]").TextContent, StringComparison.Ordinal);
        page.WaitForAssertion(() => Assert.Equal("individual enrollment, disabled", page.Find("[data-individual-enrollment]").TextContent.Trim()), Live);
        Assert.NotNull(page.Find("[data-restore]"));
        Assert.Empty(page.FindAll("[data-renew-key]"));
        Assert.Empty(page.FindAll("[data-setup-error]"));
    }

    [Fact]
    public async Task A_missing_certificate_says_so_with_what_to_do()
    {
        var op = await UserAsync("pg3-op", PortalRoles.Operator);
        await using var scope = factory.Services.CreateAsyncScope();
        await using var ctx = NewContext(scope, "pg3-op", PortalPolicies.RequireViewer, PortalPolicies.RequireOperator);

        var device = ctx.Render<DeviceCertificatePage>(p => p.Add(d => d.Id, 987654).AddCascadingValue(As(op)));
        device.WaitForAssertion(() => Assert.Contains("does not exist", device.Find("[data-setup-error]").TextContent, StringComparison.Ordinal), Live);
        Assert.Contains("Go back to the certificate list", device.Find("[data-setup-error]").TextContent, StringComparison.Ordinal);
        Assert.Empty(device.FindAll("[data-actions]"));

        var ca = ctx.Render<CaCertificatePage>(p => p.Add(d => d.Id, 987654).AddCascadingValue(As(op)));
        ca.WaitForAssertion(() => Assert.NotNull(ca.Find("[data-setup-error]")), Live);
        Assert.Empty(ca.FindAll("[data-ca-revoke]"));
    }

    [Fact]
    public async Task The_CA_page_warns_an_operator_what_revoking_shuts_out_and_offers_a_viewer_nothing()
    {
        var (op, viewer, rootId, _) = await PreparedAsync("pg4");
        await using var scope = factory.Services.CreateAsyncScope();

        await using var opCtx = NewContext(scope, "pg4-op", PortalPolicies.RequireViewer, PortalPolicies.RequireOperator);
        var dialogs = opCtx.Render<MudDialogProvider>();
        var page = opCtx.Render<CaCertificatePage>(p => p.Add(c => c.Id, rootId).AddCascadingValue(As(op)));
        page.WaitForAssertion(() => Assert.Contains("pg4-devices will be disabled", page.Find("[data-ca-warning]").TextContent, StringComparison.Ordinal), Live);
        Assert.Contains("2", page.Find("[data-ca-facts]").TextContent, StringComparison.Ordinal);
        Assert.False(page.Find("[data-revoke-ca]").HasAttribute("disabled"));
        await page.InvokeAsync(() => page.Find("[data-revoke-ca]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("pg4-devices will be disabled", dialogs.Find("[data-confirm-dialog], .mud-dialog").TextContent, StringComparison.Ordinal), Live);

        await using var viewerCtx = NewContext(scope, "pg4-viewer", PortalPolicies.RequireViewer);
        var asViewer = viewerCtx.Render<CaCertificatePage>(p => p.Add(c => c.Id, rootId).AddCascadingValue(As(viewer)));
        asViewer.WaitForAssertion(() => Assert.NotNull(asViewer.Find("[data-ca-facts]")), Live);
        Assert.Empty(asViewer.FindAll("[data-ca-revoke]"));
    }

    /// <summary>A provisioned setup (group, two devices, the first registered) with an Operator and a Viewer.</summary>
    private async Task<(ClaimsPrincipal Op, ClaimsPrincipal Viewer, int RootId, int[] DeviceIds)> PreparedAsync(string name)
    {
        var op = await UserAsync($"{name}-op", PortalRoles.Operator);
        var viewer = await UserAsync($"{name}-viewer", PortalRoles.Viewer);
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, name);
        var root = (await wizard.Setups.GetAsync(op, id)).Value!.Root!;
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = $"{name}-devices", PrimaryCa = root.DpsCertificateName! })).Succeeded);
        var devices = (await wizard.Devices.IssueDevicesAsync(op, id, [$"{name}-001", $"{name}-002"])).Value!.Devices;
        Assert.True((await wizard.Testing.TestRegistrationAsync(op, id, devices[0].Id, DeviceTransport.Https)).Value!.Assigned);
        return (op, viewer, root.Id, [.. devices.Select(d => d.Id)]);
    }

    private async Task<ClaimsPrincipal> UserAsync(string name, string role)
    {
        await factory.CreateUserAsync(name, role);
        return await factory.PrincipalForAsync(name);
    }

    private static Task<AuthenticationState> As(ClaimsPrincipal user) => Task.FromResult(new AuthenticationState(user));

    private static BunitContext NewContext(AsyncServiceScope scope, string userName, params string[] policies)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices(mud => mud.PopoverOptions.CheckForPopoverProvider = false);
        var auth = ctx.AddAuthorization();
        auth.SetAuthorized(userName);
        auth.SetPolicies(policies);
        ctx.Services.AddFallbackServiceProvider(scope.ServiceProvider);
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }
}
