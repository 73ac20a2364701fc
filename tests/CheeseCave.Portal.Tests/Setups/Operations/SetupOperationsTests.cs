using System.Security.Claims;
using System.Text.RegularExpressions;
using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Hubs;
using CheeseCave.Portal.Setups.Operations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CheeseCave.Portal.Tests.Setups.Operations;

public sealed class SetupOperationsTests(SlowArmPortal portal) : IClassFixture<SlowArmPortal>
{
    private static string Unique(string prefix) => $"{prefix}{Guid.NewGuid().ToString("N")[..6]}";

    private Task<int> NewSetupAsync(ClaimsPrincipal op, string name) =>
        portal.WizardAsync(async w => (await w.Setups.CreateAsync(op, name)).Value!.Id);

    private static Task<SetupOperationStart> StartDps(SetupOperations operations, ClaimsPrincipal op, int setupId, string name) =>
        operations.StartAsync<DpsHandler, CheeseCave.Provisioning.Arm.ProvisioningServiceInfo>(op, setupId, SetupOperationKind.CreateDps, name,
            (dps, progress, ct) => dps.CreateDpsAsync(op, setupId, "cheesecave-rg", name, "eastus", progress, ct));

    [Fact]
    public async Task A_dps_creation_started_on_the_page_keeps_running_and_commits_after_the_page_is_gone()
    {
        var op = await portal.UserAsync(Unique("ops-ada-"), PortalRoles.Operator);
        var id = await NewSetupAsync(op, Unique("opscave"));
        var name = Unique("ops-dps-");
        using var probe = new OperationProbe(portal.Operations, id);

        await using (var scope = portal.Services.CreateAsyncScope())
        {
            var wizard = new SetupSlices(scope.ServiceProvider);
            var view = (await wizard.Setups.GetAsync(op, id)).Value!;
            var ctx = portal.NewContext(wizard);
            var cut = ctx.Render<DpsStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));
            cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-field=resource-group]")), TimeSpan.FromSeconds(30));
            await cut.InvokeAsync(() => cut.Find("#dps-name").Input(name));
            cut.WaitForAssertion(() => Assert.Contains($"{name} is available", cut.Markup, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            // Wait until the button may be used (the resource groups and the name check both answered), then click.
            cut.WaitForAssertion(() => Assert.False(CreateDps(cut).HasAttribute("disabled")), TimeSpan.FromSeconds(30));
            await cut.InvokeAsync(() => CreateDps(cut).Click());
            cut.WaitForAssertion(() => Assert.Contains("Creating the DPS", cut.Find("[data-progress-status]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));

            // Close the tab: the component, its renderer and the scope it got its service from all go away.
            await ctx.DisposeAsync();
        }

        Assert.True(portal.Operations.Get(id, SetupOperationKind.CreateDps)?.IsRunning, "the operation ended before the page was closed; the test proves nothing");
        var ended = await probe.EndedAsync();
        Assert.True(ended.Succeeded, ended.Error?.Message);
        Assert.Equal(name, (await portal.SetupRowAsync(id)).DpsName);
        var inEmulator = await portal.WizardAsync(w => w.Dps.ListProvisioningServicesAsync(op, "cheesecave-rg"));
        Assert.Contains(inEmulator.Value!, d => d.Name == name);
        Assert.Contains(probe.Seen, s => s.Progress == "Submitting"); // ARM's progress lines still flowed with no page listening
    }

    [Fact]
    public async Task A_second_page_for_the_same_setup_shows_the_running_operation_and_who_started_it_then_the_result()
    {
        var ada = await portal.UserAsync(Unique("ops-ada-"), PortalRoles.Operator);
        var grace = await portal.UserAsync(Unique("ops-grace-"), PortalRoles.Operator);
        var id = await NewSetupAsync(ada, Unique("opscave"));
        var name = Unique("ops-dps-");
        using var probe = new OperationProbe(portal.Operations, id);

        Assert.True((await StartDps(portal.Operations, ada, id, name)).Started);
        await probe.WaitForAsync(s => s.Progress == "Submitting");

        await using var scope = portal.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var changed = 0;
        var view = (await wizard.Setups.GetAsync(grace, id)).Value!;
        await using var ctx = portal.NewContext(wizard);
        var cut = ctx.Render<DpsStep>(p => p.Add(s => s.View, view).Add(s => s.User, grace).Add(s => s.OnChanged, (int? _) => changed++));

        // Grace's fresh page sees Ada's operation at once: progress bar, ARM's line, and who started it when.
        var progress = cut.Find("[data-progress]");
        Assert.NotNull(progress.QuerySelector(".mud-progress-linear"));
        Assert.StartsWith("Creating the DPS: ", cut.Find("[data-progress-status]").TextContent.Trim(), StringComparison.Ordinal);
        Assert.Matches(new Regex($@"^Started by {Regex.Escape(ada.Identity!.Name!)} \d+ s ago\. It goes on if this page is closed\.$"), cut.Find("[data-progress-by]").TextContent.Trim());
        Assert.Null(view.Dps);

        // When it ends the page asks for its view again (the wizard page's OnChanged) and the progress goes away.
        var ended = await probe.EndedAsync();
        Assert.True(ended.Succeeded, ended.Error?.Message);
        cut.WaitForAssertion(() => Assert.Equal(1, changed), TimeSpan.FromSeconds(30));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-progress]")), TimeSpan.FromSeconds(30));
        var fresh = (await wizard.Setups.GetAsync(grace, id)).Value!;
        cut.Render(p => p.Add(s => s.View, fresh));
        Assert.Contains(name, cut.Find("[data-dps-ready]").TextContent, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-setup-error]"));
    }

    [Fact]
    public async Task A_second_start_for_the_same_setup_is_refused_in_plain_words_and_a_throwing_subscriber_breaks_nothing()
    {
        var op = await portal.UserAsync(Unique("ops-ada-"), PortalRoles.Operator);
        var id = await NewSetupAsync(op, Unique("opscave"));
        using var probe = new OperationProbe(portal.Operations, id);
        void Throwing(SetupOperationStatus status) => throw new InvalidOperationException("a torn-down page");
        portal.Operations.Changed += Throwing;
        try
        {
            var first = await StartDps(portal.Operations, op, id, Unique("ops-dps-"));
            Assert.True(first.Started);
            var second = await StartDps(portal.Operations, op, id, Unique("ops-dps-"));

            Assert.False(second.Started);
            Assert.Matches(new Regex($@"^A DPS is already being created for this setup \(started by {Regex.Escape(op.Identity!.Name!)} \d+ s ago\)\.$"), second.Refused!.Message);
            Assert.Contains("Wait for it to finish", second.Refused.WhatToDo, StringComparison.Ordinal);
            Assert.Equal(first.Status!.StartedAt, second.Status!.StartedAt); // the refusal points at the running one

            // Another kind for the same setup is not blocked by it.
            var hub = await portal.Operations.StartAsync<HubsHandler, CheeseCave.Provisioning.Arm.IotHubInfo>(op, id, SetupOperationKind.CreateHub, "x",
                (hubs, progress, ct) => hubs.CreateHubAsync(op, id, Unique("ops-hub-"), "eastus", progress, ct));
            Assert.True(hub.Started);

            var ended = await probe.WaitForAsync(s => s.Kind == SetupOperationKind.CreateDps && !s.IsRunning);
            Assert.True(ended.Succeeded, ended.Error?.Message);
            await probe.WaitForAsync(s => s.Kind == SetupOperationKind.CreateHub && !s.IsRunning);

            // Once it has ended, a new one may start.
            Assert.True((await StartDps(portal.Operations, op, id, Unique("ops-dps-"))).Started);
            Assert.True((await probe.WaitForAsync(s => s.Kind == SetupOperationKind.CreateDps && !s.IsRunning && s.StartedAt > ended.StartedAt)).EndedAt is not null);
        }
        finally
        {
            portal.Operations.Changed -= Throwing;
        }
    }

    [Fact]
    public async Task A_failure_reaches_the_subscriber_and_the_page_shows_it()
    {
        var op = await portal.UserAsync(Unique("ops-ada-"), PortalRoles.Operator);
        var taken = Unique("ops-dps-");
        var first = await NewSetupAsync(op, Unique("opscave"));
        Assert.True((await portal.WizardAsync(w => w.Dps.CreateDpsAsync(op, first, "cheesecave-rg", taken, "eastus"))).Succeeded);
        var id = await NewSetupAsync(op, Unique("opscave"));
        using var probe = new OperationProbe(portal.Operations, id);

        await using var scope = portal.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = portal.NewContext(wizard);
        var changed = 0;
        var cut = ctx.Render<DpsStep>(p => p.Add(s => s.View, view).Add(s => s.User, op).Add(s => s.OnChanged, (int? _) => changed++));

        Assert.True((await StartDps(portal.Operations, op, id, taken)).Started); // DPS names are global: the emulator says it is taken
        var ended = await probe.EndedAsync();

        Assert.False(ended.Succeeded);
        Assert.Contains(taken, ended.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("DPS names are global", ended.Error.WhatToDo, StringComparison.Ordinal);
        cut.WaitForAssertion(() => Assert.Contains(ended.Error.Message, cut.Find("[data-setup-error]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Equal(0, changed); // nothing changed, so the page does not reload its view
        Assert.Null((await portal.SetupRowAsync(id)).DpsName);

        // A page opened within the retention period still learns how it ended.
        await using var later = portal.NewContext(wizard);
        var reopened = later.Render<DpsStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));
        reopened.WaitForAssertion(() => Assert.Contains(ended.Error.Message, reopened.Find("[data-setup-error]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task One_click_proof_of_possession_runs_as_an_operation_and_the_page_shows_it_verified()
    {
        var op = await portal.UserAsync(Unique("ops-pop-"), PortalRoles.Operator);
        var id = await NewSetupAsync(op, Unique("opscave"));
        Assert.True((await portal.WizardAsync(w => w.Dps.CreateDpsAsync(op, id, "cheesecave-rg", Unique("ops-dps-"), "eastus"))).Succeeded);
        Assert.True((await portal.WizardAsync(w => w.CaGeneration.GenerateCaAsync(op, id, "Ops Root", null, CheeseCave.Pki.ProfilePreset.Recommended))).Succeeded);
        Assert.True((await portal.WizardAsync(w => w.Upload.UploadCaAsync(op, id))).Succeeded);
        using var probe = new OperationProbe(portal.Operations, id);

        await using var scope = portal.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var changed = 0;
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = portal.NewContext(wizard);
        ctx.Services.AddFallbackServiceProvider(scope.ServiceProvider); // the step's approval banner
        var cut = ctx.Render<VerifyStep>(p => p.Add(s => s.View, view).Add(s => s.User, op).Add(s => s.OnChanged, (int? _) => changed++));
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-unverified]")), TimeSpan.FromSeconds(30));

        await cut.InvokeAsync(() => cut.FindAll("button").Single(b => b.TextContent.Contains("Prove possession", StringComparison.Ordinal)).Click());
        cut.WaitForAssertion(() => Assert.StartsWith("Proving possession", cut.Find("[data-progress-status]").TextContent.Trim(), StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.NotNull(cut.FindAll("button").Single(b => b.TextContent.Contains("Prove possession", StringComparison.Ordinal)).GetAttribute("disabled"));

        var ended = await probe.EndedAsync();
        Assert.True(ended.Succeeded, ended.Error?.Message);
        Assert.Contains(probe.Seen, s => s.Progress == "Signing the verification certificate");
        cut.WaitForAssertion(() => Assert.Equal(1, changed), TimeSpan.FromSeconds(30));
        var fresh = (await wizard.Setups.GetAsync(op, id)).Value!;
        cut.Render(p => p.Add(s => s.View, fresh));
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-verified]")), TimeSpan.FromSeconds(30));
        Assert.Empty(cut.FindAll("[data-progress]"));
    }

    [Fact]
    public async Task Creating_a_hub_runs_as_an_operation_and_the_page_offers_the_new_hub_for_linking()
    {
        var op = await portal.UserAsync(Unique("ops-hub-"), PortalRoles.Operator);
        var id = await NewSetupAsync(op, Unique("opscave"));
        Assert.True((await portal.WizardAsync(w => w.Dps.CreateDpsAsync(op, id, "cheesecave-rg", Unique("ops-dps-"), "eastus"))).Succeeded);
        var hub = Unique("ops-hub-");
        using var probe = new OperationProbe(portal.Operations, id);

        await using var scope = portal.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var changed = 0;
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = portal.NewContext(wizard);
        var cut = ctx.Render<HubsStep>(p => p.Add(s => s.View, view).Add(s => s.User, op).Add(s => s.OnChanged, (int? _) => changed++));
        cut.WaitForAssertion(() => Assert.True(cut.FindAll("[data-panel=create-hub]").Count > 0 || cut.FindAll("[data-panel=link-hub]").Count > 0 || cut.FindAll("[data-all-hubs-linked]").Count > 0), TimeSpan.FromSeconds(30));
        if (cut.FindAll("[data-panel=create-hub]").Count == 0)
        {
            await cut.InvokeAsync(() => cut.FindAll("button").First(b => b.TextContent.Contains("Create another hub", StringComparison.Ordinal)).Click());
        }

        await cut.InvokeAsync(() => cut.Find("#hub-name").Input(hub));
        cut.WaitForAssertion(() => Assert.False(CreateHub(cut).HasAttribute("disabled")), TimeSpan.FromSeconds(30));
        await cut.InvokeAsync(() => CreateHub(cut).Click());
        cut.WaitForAssertion(() => Assert.StartsWith("Creating the hub", cut.Find("[data-progress-status]").TextContent.Trim(), StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        var ended = await probe.EndedAsync();
        Assert.True(ended.Succeeded, ended.Error?.Message);
        Assert.Equal(hub, ended.Subject);
        cut.WaitForAssertion(() => Assert.Equal(1, changed), TimeSpan.FromSeconds(30));
        cut.WaitForAssertion(() => Assert.Contains(hub, cut.Find("[data-panel=link-hub]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Empty(cut.FindAll("[data-panel=create-hub]"));
        Assert.Empty(cut.FindAll("[data-progress]"));
    }

    [Fact]
    public async Task Stopping_the_portal_cancels_a_running_operation_cleanly()
    {
        // Its own portal: this one is stopped.
        await using var own = new SlowArmPortal();
        var op = await own.UserAsync("ops-stop", PortalRoles.Operator);
        var id = await own.WizardAsync(async w => (await w.Setups.CreateAsync(op, "opsstop")).Value!.Id);
        var operations = own.Operations;
        using var probe = new OperationProbe(operations, id);
        Assert.True((await StartDps(operations, op, id, Unique("ops-dps-"))).Started);
        await probe.WaitForAsync(s => s.Progress == "Submitting");

        own.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        var ended = await probe.EndedAsync();

        Assert.False(ended.Succeeded);
        Assert.Equal("Creating the DPS was stopped because the portal shut down.", ended.Error!.Message);
        Assert.Contains("start it again", ended.Error.WhatToDo, StringComparison.Ordinal);
        await operations.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30)); // nothing left running, nothing faulted
        Assert.Null((await own.SetupRowAsync(id)).DpsName); // nothing half-written to the setup
    }

    private static AngleSharp.Dom.IElement CreateDps(IRenderedComponent<DpsStep> cut) =>
        cut.FindAll("button").Single(b => b.TextContent.Contains("Create DPS", StringComparison.Ordinal));

    private static AngleSharp.Dom.IElement CreateHub(IRenderedComponent<HubsStep> cut) =>
        cut.FindAll("button").Single(b => b.TextContent.Trim() == "Create hub");
}
