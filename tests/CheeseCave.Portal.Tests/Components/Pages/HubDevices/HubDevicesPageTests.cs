using Bunit;
using CheeseCave.Portal.Components.Pages.HubDevices;
using CheeseCave.Portal.Tests.Components.Wizards.Setups;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Portal.Tests.Setups.HubDevices;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Components.Pages.HubDevices;

/// <summary>bUnit: the Devices page of a hub with the real handler, against the embedded emulator's hub.</summary>
public sealed class HubDevicesPageTests(PortalFactory factory) : IClassFixture<PortalFactory>, IAsyncDisposable
{
    private readonly StepHarness _harness = new(factory);

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task A_viewer_sees_the_tested_device_with_its_telemetry_then_its_twin_and_messages()
    {
        var (id, _, viewer) = await TestedSetup.CreateAsync(factory, "hdpage");
        await using var scope = factory.Services.CreateAsyncScope();
        await using var ctx = _harness.NewContext(new SetupSlices(scope.ServiceProvider));
        var auth = Task.FromResult(new AuthenticationState(viewer));
        var page = ctx.Render<HubDevicesPage>(p => p.Add(x => x.Id, id).Add(x => x.Hub, "hdpage-hub").AddCascadingValue(auth));
        var log = MarkupLog.Of(page);

        page.WaitForAssertion(() => page.Find("[data-device-id='hdpage-001']"), TimeSpan.FromSeconds(30));
        Assert.Equal("disconnected", page.Find("[data-connection]").GetAttribute("data-connection"));
        Assert.Equal("enabled", page.Find("[data-status]").GetAttribute("data-status"));
        Assert.DoesNotContain("Never", page.Find("[data-last-activity]").TextContent, StringComparison.Ordinal);
        Assert.Contains("\"temperature\"", page.Find("[data-telemetry-preview]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-telemetry-note]")); // the emulator's telemetry can be read

        await page.InvokeAsync(() => page.Find("[data-details='hdpage-001']").Click());
        page.WaitForAssertion(() => page.Find("[data-device-details='hdpage-001']"), TimeSpan.FromSeconds(30));
        Assert.StartsWith("{", page.Find("[data-twin-desired]").TextContent.Trim(), StringComparison.Ordinal);
        Assert.NotNull(page.Find("[data-twin-reported]"));
        var message = Assert.Single(page.FindAll("[data-message]"));
        Assert.Contains("cave=hdpage", message.TextContent, StringComparison.Ordinal);
        Assert.Contains("application/json", message.TextContent, StringComparison.Ordinal);

        // Refresh shows its progress and keeps the selected device's details.
        await page.InvokeAsync(() => page.Find("[data-refresh]").Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-progress]")), TimeSpan.FromSeconds(30));
        Assert.Contains(log.All, m => m.Contains("Reading the devices of hdpage-hub", StringComparison.Ordinal));
        Assert.NotNull(page.Find("[data-device-details='hdpage-001']"));
    }

    [Fact]
    public async Task A_hub_that_is_not_linked_to_the_setup_shows_what_to_do()
    {
        var (id, _, viewer) = await TestedSetup.CreateAsync(factory, "hdnolink", test: false);
        await using var scope = factory.Services.CreateAsyncScope();
        await using var ctx = _harness.NewContext(new SetupSlices(scope.ServiceProvider));
        var page = ctx.Render<HubDevicesPage>(p => p.Add(x => x.Id, id).Add(x => x.Hub, "elsewhere-hub").AddCascadingValue(Task.FromResult(new AuthenticationState(viewer))));
        page.WaitForAssertion(() => Assert.Contains("is not linked to the DPS", page.Markup, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains("step 2", page.Markup, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-hub-devices]"));
    }
}
