using System.Security.Claims;
using System.Text;
using Bunit;
using CheeseCave.Pki;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Portal.Setups.Allocation;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Dps;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Hubs;
using CheeseCave.Portal.Setups.KeyExport;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Setups.Overview;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Setups.TestRegistration;
using CheeseCave.Portal.Setups.Upload;
using CheeseCave.Portal.Tests.Infrastructure;
namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>
/// bUnit: wizard steps 8-10 rendered with the real <see cref="SetupSlices"/> against the embedded emulator.
/// Every markup the component produced is kept, so a progress state that lasted only while the service worked is
/// still seen, and so no private key can have been in any of them.
/// </summary>
public sealed class WizardStepComponentTests(PortalFactory factory) : IClassFixture<PortalFactory>, IAsyncLifetime
{
    private readonly List<AsyncServiceScope> _scopes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var scope in _scopes)
        {
            await scope.DisposeAsync();
        }
    }

    private BunitContext NewContext(SetupSlices wizard)
    {
        var ctx = new BunitContext();
        var services = factory.Services.CreateAsyncScope(); // the steps' approval banners (scoped ApprovalService)
        _scopes.Add(services);
        ctx.Services.AddFallbackServiceProvider(services.ServiceProvider);
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices(mud => mud.PopoverOptions.CheckForPopoverProvider = false);
        wizard.RegisterIn(ctx.Services);
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<SetupOperations>()); // long actions run in the portal host
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<TimeProvider>());
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return ctx;
    }

    private async Task<(ClaimsPrincipal Operator, ClaimsPrincipal Viewer)> UsersAsync(string prefix)
    {
        await factory.CreateUserAsync(prefix + "-op", PortalRoles.Operator);
        await factory.CreateUserAsync(prefix + "-viewer", PortalRoles.Viewer);
        return (await factory.PrincipalForAsync(prefix + "-op"), await factory.PrincipalForAsync(prefix + "-viewer"));
    }

    /// <summary>Every markup a component had, from the first render on.</summary>
    private sealed class MarkupLog
    {
        private readonly List<string> _markups = [];

        public void Add(string markup)
        {
            lock (_markups)
            {
                _markups.Add(markup);
            }
        }

        public IReadOnlyList<string> All
        {
            get
            {
                lock (_markups)
                {
                    return [.. _markups];
                }
            }
        }
    }

    private static MarkupLog Log<T>(IRenderedComponent<T> cut)
        where T : IComponent
    {
        var log = new MarkupLog();
        log.Add(cut.Markup);
        cut.OnMarkupUpdated += (_, _) => log.Add(cut.Markup);
        return log;
    }

    /// <summary>No PEM private-key block, and not a line of this key's base64 body, in any markup.</summary>
    private static void AssertNoKeyMaterial(MarkupLog log, params string[] keyPems)
    {
        foreach (var markup in log.All)
        {
            Assert.DoesNotContain("PRIVATE KEY", markup, StringComparison.Ordinal);
            foreach (var pem in keyPems)
            {
                foreach (var line in pem.Split('\n').Select(l => l.Trim()).Where(l => l.Length >= 40 && !l.StartsWith("-----", StringComparison.Ordinal)))
                {
                    Assert.DoesNotContain(line, markup, StringComparison.Ordinal);
                }
            }
        }
    }

    private static async Task<string> KeyPemAsync(SetupSlices wizard, ClaimsPrincipal op, int setupId, int deviceId)
    {
        var key = await wizard.DeviceDownloads.DownloadDeviceFileAsync(op, setupId, deviceId, DeviceFileKind.Key);
        Assert.True(key.Succeeded, key.Error?.Message);
        return Encoding.ASCII.GetString(key.Value!.Content);
    }

    // ------------------------------------------------------------------ step 8: enrollment group

    [Fact]
    public async Task The_enrollment_step_flags_bad_ids_and_twin_json_as_typed_then_saves_with_progress_and_shows_the_live_group()
    {
        var (op, _) = await UsersAsync("bu-eg");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "bueg");
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = NewContext(wizard);
        var cut = ctx.Render<EnrollmentStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));
        var log = Log(cut);

        Assert.Equal("bueg", cut.Find("#group-id").GetAttribute("value"));
        Assert.Null(cut.Find("[data-save-group]").GetAttribute("disabled"));

        // The group id, checked as typed.
        await cut.InvokeAsync(() => cut.Find("#group-id").Input("bad id!"));
        var idProblem = EnrollmentRules.CheckGroupId("bad id!").Problem!;
        Assert.Contains(idProblem, cut.Markup, StringComparison.Ordinal);
        Assert.NotNull(cut.Find("[data-save-group]").GetAttribute("disabled"));
        await cut.InvokeAsync(() => cut.Find("#group-id").Input("bueg-devices"));
        Assert.DoesNotContain(idProblem, cut.Markup, StringComparison.Ordinal);

        // Twin JSON: not JSON, and JSON that is not an object; each field says what is wrong with it.
        await cut.InvokeAsync(() => cut.Find("#twin-tags").Input("{ \"cave\": north }"));
        var tagsProblem = EnrollmentRules.ParseTwinObject("{ \"cave\": north }", "tags").Problem!;
        Assert.Contains("tags", tagsProblem, StringComparison.Ordinal);
        Assert.Contains(tagsProblem, cut.Markup, StringComparison.Ordinal);
        Assert.NotNull(cut.Find("[data-save-group]").GetAttribute("disabled"));
        await cut.InvokeAsync(() => cut.Find("#twin-desired").Input("[92]"));
        var desiredProblem = EnrollmentRules.ParseTwinObject("[92]", "desired properties").Problem!;
        Assert.Contains(desiredProblem, cut.Markup, StringComparison.Ordinal);

        await cut.InvokeAsync(() => cut.Find("#twin-tags").Input("{ \"cave\": \"north\" }"));
        await cut.InvokeAsync(() => cut.Find("#twin-desired").Input("{ \"targetHumidity\": 92 }"));
        Assert.DoesNotContain(tagsProblem, cut.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain(desiredProblem, cut.Markup, StringComparison.Ordinal);
        Assert.Null(cut.Find("[data-save-group]").GetAttribute("disabled"));

        await cut.InvokeAsync(() => cut.Find("[data-save-group]").Click());
        cut.WaitForAssertion(() => Assert.Contains("bueg-devices", cut.Find("[data-group-saved]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains(log.All, m => m.Contains("data-progress", StringComparison.Ordinal) && m.Contains("Saving the enrollment group", StringComparison.Ordinal));
        Assert.DoesNotContain("data-progress", cut.Markup, StringComparison.Ordinal);
        var live = cut.Find("[data-group-live]").TextContent;
        Assert.Contains(view.Root!.DpsCertificateName!, live, StringComparison.Ordinal);
        Assert.Contains("enabled", live, StringComparison.Ordinal);

        // What the component showed is what the DPS now holds.
        var group = (await wizard.Enrollment.GetEnrollmentGroupAsync(op, id)).Value!;
        Assert.Equal("bueg-devices", group.GroupId);
        Assert.Contains("north", group.TagsJson, StringComparison.Ordinal);
        AssertNoKeyMaterial(log);
    }

    [Fact]
    public async Task A_viewer_sees_the_enrollment_step_read_only_without_a_save_button()
    {
        var (op, viewer) = await UsersAsync("bu-egv");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "buegv");
        var view = (await wizard.Setups.GetAsync(viewer, id)).Value!;
        await using var ctx = NewContext(wizard);
        var cut = ctx.Render<EnrollmentStep>(p => p.Add(s => s.View, view).Add(s => s.User, viewer));

        Assert.Empty(cut.FindAll("[data-save-group]"));
        Assert.NotNull(cut.Find("#group-id").GetAttribute("disabled"));
    }

    // ------------------------------------------------------------------ step 9: device certificates

    [Fact]
    public async Task The_devices_step_flags_bad_registration_ids_then_issues_with_progress_and_never_renders_a_key()
    {
        var (op, _) = await UsersAsync("bu-dev");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = (await wizard.Setups.CreateAsync(op, "budev")).Value!.Id;
        Assert.True((await wizard.CaGeneration.GenerateCaAsync(op, id, "Budev Root", "Budev Intermediate", ProfilePreset.Recommended)).Succeeded);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = NewContext(wizard);
        var cut = ctx.Render<DevicesStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));
        var log = Log(cut);

        Assert.Contains("Budev Intermediate", cut.Find("[data-issuer]").TextContent, StringComparison.Ordinal);
        Assert.NotNull(cut.Find("[data-issue-devices]").GetAttribute("disabled")); // nothing entered yet

        await cut.InvokeAsync(() => cut.Find("#registration-ids").Input("budev-001\nbad id!\nBudev-Upper"));
        var expected = DeviceSettings.Check(["budev-001", "bad id!", "Budev-Upper"]);
        Assert.Contains("3 devices", cut.Find("[data-id-checks]").TextContent, StringComparison.Ordinal);
        var error = Assert.Single(cut.FindAll("[data-id-error]"));
        Assert.Equal(string.Join(" ", expected[1].Errors), error.TextContent.Trim());
        Assert.Contains(cut.FindAll("[data-id-warning]"), w => w.TextContent.Contains("upper-case", StringComparison.Ordinal));
        Assert.NotNull(cut.Find("[data-issue-devices]").GetAttribute("disabled"));

        await cut.InvokeAsync(() => cut.Find("#registration-ids").Input("budev-001\nbudev-002"));
        Assert.Empty(cut.FindAll("[data-id-error]"));
        Assert.Contains("budev-001, budev-002", cut.Find("[data-id-checks]").TextContent, StringComparison.Ordinal);
        await cut.InvokeAsync(() => cut.Find("[data-issue-devices]").Click());
        cut.WaitForAssertion(() => Assert.Contains("Issued 2 certificates", cut.Find("[data-batch-issued]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        // Issuing is CPU work (100 devices took 2.3 s here): the page must render its progress before it starts.
        Assert.True(log.All.Any(m => m.Contains("data-progress", StringComparison.Ordinal) && m.Contains("Issuing", StringComparison.Ordinal)),
            "DevicesStep never rendered its progress: the issue handler runs to completion without yielding, so nothing renders until it is done.");

        Assert.Equal(2, cut.FindAll("[data-device]").Count);
        Assert.Equal(2, cut.FindAll("[data-download=key]").Count); // links to the authorized endpoint, not the key itself
        Assert.False(string.IsNullOrEmpty(cut.Find("#copy-pfx-password").GetAttribute("value")));
        Assert.Contains("budev-001", cut.Find("#copy-device-settings").TextContent + cut.Find("#copy-device-settings").GetAttribute("value"), StringComparison.Ordinal);

        var devices = (await wizard.Devices.ListDevicesAsync(op, id)).Value!;
        var keys = new List<string>();
        foreach (var device in devices)
        {
            keys.Add(await KeyPemAsync(wizard, op, id, device.Id));
        }

        AssertNoKeyMaterial(log, [.. keys]);

        // Another Operator sees whose the keys are instead of links they could not use.
        await factory.CreateUserAsync("bu-dev-op2", PortalRoles.Operator);
        var other = await factory.PrincipalForAsync("bu-dev-op2");
        var otherView = (await wizard.Setups.GetAsync(other, id)).Value!;
        var othersPage = ctx.Render<DevicesStep>(p => p.Add(s => s.View, otherView).Add(s => s.User, other));
        othersPage.WaitForAssertion(() => Assert.Equal(2, othersPage.FindAll("[data-key-owner=bu-dev-op]").Count), TimeSpan.FromSeconds(10));
        Assert.Empty(othersPage.FindAll("[data-download=key]"));
        Assert.Contains("key: only bu-dev-op, who issued this batch", othersPage.Markup, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------ step 10: test registration

    [Fact]
    public async Task The_test_step_shows_the_assignment_then_a_refusal_with_the_diagnosis_and_what_to_do()
    {
        var (op, viewer) = await UsersAsync("bu-test");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "butest", intermediate: true);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = "butest-devices", PrimaryCa = view.Root!.DpsCertificateName!, Enabled = true })).Succeeded);
        var device = (await wizard.Devices.IssueDevicesAsync(op, id, ["butest-001"])).Value!.Devices.Single();
        view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = NewContext(wizard);
        var cut = ctx.Render<TestStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));
        var log = Log(cut);

        await cut.InvokeAsync(() => cut.Find("[data-register]").Click());
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-registration-assigned]")), TimeSpan.FromSeconds(30));
        Assert.Contains(log.All, m => m.Contains("data-progress", StringComparison.Ordinal));
        Assert.Equal(view.LinkedHubs.Single().HostName, cut.Find("[data-assigned-hub]").TextContent.Trim());
        Assert.Equal("butest-001", cut.Find("[data-device-id]").TextContent.Trim());
        Assert.False(string.IsNullOrWhiteSpace(cut.Find("[data-substatus]").TextContent));
        Assert.Contains("over HTTPS", cut.Find("[data-registration-assigned]").TextContent, StringComparison.Ordinal);

        // Only the leaf: DPS cannot reach the verified root, and the page says what is missing and what to do.
        await cut.InvokeAsync(() => cut.Find("[data-panel=test-registration] input[type=checkbox]").Change(true));
        await cut.InvokeAsync(() => cut.Find("[data-register]").Click());
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-registration-failed]")), TimeSpan.FromSeconds(30));
        Assert.Empty(cut.FindAll("[data-registration-assigned]"));
        Assert.Contains("401002", cut.Find("[data-registration-failed]").TextContent, StringComparison.Ordinal);
        var diagnosis = cut.Find("[data-diagnosis]").TextContent;
        Assert.Contains("missingChainElements", diagnosis, StringComparison.Ordinal);
        Assert.Contains("butest Intermediate", diagnosis, StringComparison.Ordinal);
        Assert.Contains("-chain.pem", cut.Find("[data-what-to-do]").TextContent, StringComparison.Ordinal);

        AssertNoKeyMaterial(log, await KeyPemAsync(wizard, op, id, device.Id));

        // A Viewer gets no way to run it (it uses a device key).
        var viewerView = (await wizard.Setups.GetAsync(viewer, id)).Value!;
        var readOnly = ctx.Render<TestStep>(p => p.Add(s => s.View, viewerView).Add(s => s.User, viewer));
        Assert.NotNull(readOnly.Find("[data-read-only-test]"));
        Assert.Empty(readOnly.FindAll("[data-register]"));
    }

    [Fact]
    public async Task The_test_step_shows_a_service_error_with_what_to_do_when_the_device_key_is_gone()
    {
        var (op, _) = await UsersAsync("bu-gone");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "bugone");
        var device = (await wizard.Devices.IssueDevicesAsync(op, id, ["bugone-001"])).Value!.Devices.Single();
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = NewContext(wizard);
        var cut = ctx.Render<TestStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));

        // The key leaves the download window while the page is open (the vault is the real one; it forgets keys).
        factory.Services.GetRequiredService<DeviceKeyVault>().Forget(device.Id);
        await cut.InvokeAsync(() => cut.Find("[data-register]").Click());
        cut.WaitForAssertion(() => Assert.Contains("is no longer available", cut.Markup, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains("throwaway device", cut.Markup, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-registration-assigned]"));
    }
}
