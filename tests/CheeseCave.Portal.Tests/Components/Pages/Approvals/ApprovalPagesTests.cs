using System.Security.Claims;
using Bunit;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Components.Pages.Approvals;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Components.Pages.Approvals;

/// <summary>
/// bUnit: the approval pages rendered against the real portal services (real database, real event hub), one
/// context per user, as two browsers would be. Changes made elsewhere show up without re-rendering by hand.
/// </summary>
public sealed class ApprovalPagesTests(ApprovalTestPortal portal) : IClassFixture<ApprovalTestPortal>
{
    private static readonly TimeSpan Live = TimeSpan.FromSeconds(30);

    private static BunitContext NewContext(AsyncServiceScope scope)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddFallbackServiceProvider(scope.ServiceProvider);
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }

    private static Task<AuthenticationState> As(ClaimsPrincipal user) => Task.FromResult(new AuthenticationState(user));

    [Fact]
    public async Task The_list_shows_a_new_request_live_and_only_an_eligible_approver_gets_the_decision_buttons()
    {
        var op = await portal.UserAsync("cmp-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("cmp-approver", PortalRoles.Approver);
        var viewer = await portal.UserAsync("cmp-viewer", PortalRoles.Viewer);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Component cave"))).Value!.Id;

        await using var approverScope = portal.Factory.Services.CreateAsyncScope();
        await using var approverCtx = NewContext(approverScope);
        var list = approverCtx.Render<ApprovalsPage>(p => p.AddCascadingValue(As(approver)));
        list.WaitForAssertion(() => Assert.NotNull(list.Find("[data-panel=approvals]")), Live);

        // The operator asks elsewhere; the approver's list shows it without a reload.
        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Component Root", null, ProfilePreset.Recommended)));
        list.WaitForAssertion(() => Assert.Contains("Component Root", list.Find($"[data-approval-row='{requestId}']").TextContent, StringComparison.Ordinal), Live);
        Assert.Equal("Review", list.Find($"[data-open-approval='{requestId}']").TextContent.Trim());

        await using var viewerScope = portal.Factory.Services.CreateAsyncScope();
        await using var viewerCtx = NewContext(viewerScope);
        var asViewer = viewerCtx.Render<ApprovalDetailPage>(p => p.Add(d => d.Id, requestId).AddCascadingValue(As(viewer)));
        asViewer.WaitForAssertion(() => Assert.Contains("ECDSA P-256", asViewer.Find("[data-fact='Key type']").TextContent, StringComparison.Ordinal), Live);
        Assert.Empty(asViewer.FindAll("[data-approve]"));
        Assert.Empty(asViewer.FindAll("[data-reject]"));
        Assert.NotNull(asViewer.Find("[data-cannot-decide]"));

        await using var opScope = portal.Factory.Services.CreateAsyncScope();
        await using var opCtx = NewContext(opScope);
        var asRequester = opCtx.Render<ApprovalDetailPage>(p => p.Add(d => d.Id, requestId).AddCascadingValue(As(op)));
        asRequester.WaitForAssertion(() => Assert.NotNull(asRequester.Find("[data-own-request]")), Live);
        Assert.Empty(asRequester.FindAll("[data-approve]"));
        Assert.NotNull(asRequester.Find("[data-cancel]"));

        var asApprover = approverCtx.Render<ApprovalDetailPage>(p => p.Add(d => d.Id, requestId).AddCascadingValue(As(approver)));
        asApprover.WaitForAssertion(() => Assert.NotNull(asApprover.Find("[data-approve]")), Live);
        Assert.True(asApprover.Find("[data-reject]").HasAttribute("disabled")); // a rejection needs a comment first
    }

    [Fact]
    public async Task Approving_on_the_page_applies_the_request_and_the_requesters_page_and_wizard_banner_update_live()
    {
        var op = await portal.UserAsync("cmp2-op", PortalRoles.Operator);
        var approver = await portal.UserAsync("cmp2-approver", PortalRoles.Approver);
        var setupId = (await portal.WithWizardAsync(w => w.Setups.CreateAsync(op, "Component cave two"))).Value!.Id;
        var requestId = ApprovalTestPortal.Pending(await portal.WithWizardAsync(w => w.CaGeneration.GenerateCaAsync(op, setupId, "Component Two Root", null, ProfilePreset.Recommended)));

        await using var opScope = portal.Factory.Services.CreateAsyncScope();
        await using var opCtx = NewContext(opScope);
        var requesterPage = opCtx.Render<ApprovalDetailPage>(p => p.Add(d => d.Id, requestId).AddCascadingValue(As(op)));
        var decided = 0;
        var banner = opCtx.Render<ApprovalBanner>(p => p.Add(b => b.SetupId, setupId).Add(b => b.Action, ApprovalAction.CreateCa)
            .Add(b => b.OnDecided, EventCallback.Factory.Create(this, () => decided++)).AddCascadingValue(As(op)));
        banner.WaitForAssertion(() => Assert.Equal("Pending", banner.Find("[data-approval-banner]").GetAttribute("data-approval-banner")), Live);
        Assert.Equal($"approvals/{requestId}", banner.Find("[data-approval-link]").GetAttribute("href"));
        requesterPage.WaitForAssertion(() => Assert.Equal("Pending", requesterPage.Find("[data-approval-header] [data-approval-status]").GetAttribute("data-approval-status")), Live);

        await using var approverScope = portal.Factory.Services.CreateAsyncScope();
        await using var approverCtx = NewContext(approverScope);
        var approverPage = approverCtx.Render<ApprovalDetailPage>(p => p.Add(d => d.Id, requestId).AddCascadingValue(As(approver)));
        approverPage.WaitForAssertion(() => Assert.NotNull(approverPage.Find("[data-approve]")), Live);
        approverPage.Find("#approval-comment").Input("Looks right.");
        await approverPage.InvokeAsync(() => approverPage.Find("[data-approve]").Click());

        approverPage.WaitForAssertion(() => Assert.NotNull(approverPage.Find("[data-applied]")), Live);
        Assert.Contains("Looks right.", approverPage.Find("[data-decision='cmp2-approver']").TextContent, StringComparison.Ordinal);

        // The requester's page and the wizard step's banner changed by themselves.
        requesterPage.WaitForAssertion(() => Assert.Contains("Created the root CA", requesterPage.Find("[data-applied]").TextContent, StringComparison.Ordinal), Live);
        banner.WaitForAssertion(() => Assert.Equal("Applied", banner.Find("[data-approval-banner]").GetAttribute("data-approval-banner")), Live);
        banner.WaitForAssertion(() => Assert.True(decided > 0), Live);
        Assert.Equal(1, await portal.Factory.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.SetupCertificates, c => c.SetupId == setupId)));
    }

    [Fact]
    public async Task Live_components_stop_listening_when_disposed()
    {
        var events = portal.Factory.Services.GetRequiredService<ApprovalEvents>();
        var viewer = await portal.UserAsync("cmp3-viewer", PortalRoles.Viewer);
        await using var scope = portal.Factory.Services.CreateAsyncScope();
        var before = events.SubscriberCount;
        await using (var ctx = NewContext(scope))
        {
            var list = ctx.Render<ApprovalsPage>(p => p.AddCascadingValue(As(viewer)));
            list.WaitForAssertion(() => Assert.Equal(before + 1, events.SubscriberCount), Live);
        }

        Assert.Equal(before, events.SubscriberCount);
    }
}
