using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>
/// bUnit: step 10, the test registration.
/// Rendered with the real <see cref="SetupSlices"/> against the embedded emulator; every markup the component produced
/// is kept (<see cref="MarkupLog"/>), so a progress state that lasted only while the service worked is still seen,
/// and so no private key can have been in any of them.
/// </summary>
[Collection(StepComponentsGroup.Name)]
public sealed class TestStepTests(PortalFactory factory) : IAsyncDisposable
{
    private readonly StepHarness _harness = new(factory);

    // xunit disposes the test class after each test, as it did the former IAsyncLifetime.
    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task The_test_step_shows_the_assignment_then_a_refusal_with_the_diagnosis_and_what_to_do()
    {
        var (op, viewer) = await _harness.UsersAsync("bu-test");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "butest", intermediate: true);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = "butest-devices", PrimaryCa = view.Root!.DpsCertificateName!, Enabled = true })).Succeeded);
        var device = (await wizard.Devices.IssueDevicesAsync(op, id, ["butest-001"])).Value!.Devices.Single();
        view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = _harness.NewContext(wizard);
        var cut = ctx.Render<TestStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));
        var log = MarkupLog.Of(cut);

        await cut.InvokeAsync(() => cut.Find("[data-register]").Click());
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-registration-assigned]")), TimeSpan.FromSeconds(30));
        Assert.Contains(log.All, m => m.Contains("data-progress", StringComparison.Ordinal));
        Assert.Equal(view.LinkedHubs.Single().HostName, cut.Find("[data-assigned-hub]").TextContent.Trim());
        Assert.Equal("butest-001", cut.Find("[data-device-id]").TextContent.Trim());
        Assert.False(string.IsNullOrWhiteSpace(cut.Find("[data-substatus]").TextContent));
        Assert.Contains("over HTTPS", cut.Find("[data-registration-assigned]").TextContent, StringComparison.Ordinal);

        // Then on its hub: one line each for the connection, the cave reading and the twin, and a way to the hub's devices.
        Assert.Equal("succeeded", cut.Find("[data-hub-check]").GetAttribute("data-hub-check"));
        Assert.Equal(["connect", "telemetry", "twin"], cut.FindAll("[data-hub-line]").Select(l => l.GetAttribute("data-hub-line")));
        Assert.All(cut.FindAll("[data-hub-line]"), l => Assert.Equal("succeeded", l.GetAttribute("data-state")));
        Assert.Contains("\"temperature\"", cut.Find("[data-hub-line=telemetry] [data-line-json]").TextContent, StringComparison.Ordinal);
        Assert.Contains("\"desired\"", cut.Find("[data-hub-line=twin] [data-line-json]").TextContent, StringComparison.Ordinal);
        Assert.Contains(log.All, m => m.Contains("Sending one cave reading", StringComparison.Ordinal) || m.Contains("Reading the device twin", StringComparison.Ordinal));
        Assert.Equal($"setups/{id}/hubs/butest-hub/devices", cut.Find("[data-hub-check] [data-hub-devices-link]").GetAttribute("href"));

        // Only the leaf: DPS cannot reach the verified root, and the page says what is missing and what to do.
        await cut.InvokeAsync(() => cut.Find("[data-panel=test-registration] input[type=checkbox]").Change(true));
        await cut.InvokeAsync(() => cut.Find("[data-register]").Click());
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-registration-failed]")), TimeSpan.FromSeconds(30));
        Assert.Empty(cut.FindAll("[data-registration-assigned]"));
        Assert.Empty(cut.FindAll("[data-hub-check]")); // refused by DPS: the device never goes to a hub
        Assert.Contains("401002", cut.Find("[data-registration-failed]").TextContent, StringComparison.Ordinal);
        var diagnosis = cut.Find("[data-diagnosis]").TextContent;
        Assert.Contains("missingChainElements", diagnosis, StringComparison.Ordinal);
        Assert.Contains("butest Intermediate", diagnosis, StringComparison.Ordinal);
        Assert.Contains("-chain.pem", cut.Find("[data-what-to-do]").TextContent, StringComparison.Ordinal);

        log.AssertNoKeyMaterial(await StepHarness.KeyPemAsync(wizard, op, id, device.Id));

        // A Viewer gets no way to run it (it uses a device key).
        var viewerView = (await wizard.Setups.GetAsync(viewer, id)).Value!;
        var readOnly = ctx.Render<TestStep>(p => p.Add(s => s.View, viewerView).Add(s => s.User, viewer));
        Assert.NotNull(readOnly.Find("[data-read-only-test]"));
        Assert.Empty(readOnly.FindAll("[data-register]"));
    }

    [Fact]
    public async Task The_test_step_shows_a_service_error_with_what_to_do_when_the_device_key_is_gone()
    {
        var (op, _) = await _harness.UsersAsync("bu-gone");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "bugone");
        var device = (await wizard.Devices.IssueDevicesAsync(op, id, ["bugone-001"])).Value!.Devices.Single();
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = _harness.NewContext(wizard);
        var cut = ctx.Render<TestStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));

        // The key leaves the download window while the page is open (the vault is the real one; it forgets keys).
        factory.Services.GetRequiredService<DeviceKeyVault>().Forget(device.Id);
        await cut.InvokeAsync(() => cut.Find("[data-register]").Click());
        cut.WaitForAssertion(() => Assert.Contains("is no longer available", cut.Markup, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains("throwaway device", cut.Markup, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-registration-assigned]"));
    }
}
