using Bunit;
using CheeseCave.Pki;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>
/// bUnit: step 9, the device certificates.
/// Rendered with the real <see cref="SetupSlices"/> against the embedded emulator; every markup the component produced
/// is kept (<see cref="MarkupLog"/>), so a progress state that lasted only while the service worked is still seen,
/// and so no private key can have been in any of them.
/// </summary>
[Collection(StepComponentsGroup.Name)]
public sealed class DevicesStepTests(PortalFactory factory) : IAsyncDisposable
{
    private readonly StepHarness _harness = new(factory);

    // xunit disposes the test class after each test, as it did the former IAsyncLifetime.
    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task The_devices_step_flags_bad_registration_ids_then_issues_with_progress_and_never_renders_a_key()
    {
        var (op, _) = await _harness.UsersAsync("bu-dev");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = (await wizard.Setups.CreateAsync(op, "budev")).Value!.Id;
        Assert.True((await wizard.CaGeneration.GenerateCaAsync(op, id, "Budev Root", "Budev Intermediate", ProfilePreset.Recommended)).Succeeded);
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = _harness.NewContext(wizard);
        var cut = ctx.Render<DevicesStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));
        var log = MarkupLog.Of(cut);

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
            keys.Add(await StepHarness.KeyPemAsync(wizard, op, id, device.Id));
        }

        log.AssertNoKeyMaterial([.. keys]);

        // Another Operator sees whose the keys are instead of links they could not use.
        await factory.CreateUserAsync("bu-dev-op2", PortalRoles.Operator);
        var other = await factory.PrincipalForAsync("bu-dev-op2");
        var otherView = (await wizard.Setups.GetAsync(other, id)).Value!;
        var othersPage = ctx.Render<DevicesStep>(p => p.Add(s => s.View, otherView).Add(s => s.User, other));
        othersPage.WaitForAssertion(() => Assert.Equal(2, othersPage.FindAll("[data-key-owner=bu-dev-op]").Count), TimeSpan.FromSeconds(30));
        Assert.Empty(othersPage.FindAll("[data-download=key]"));
        Assert.Contains("key: only bu-dev-op, who issued this batch", othersPage.Markup, StringComparison.Ordinal);
    }
}
