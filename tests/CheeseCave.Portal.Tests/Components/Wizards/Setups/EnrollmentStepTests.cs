using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>
/// bUnit: step 8, the enrollment group.
/// Rendered with the real <see cref="SetupSlices"/> against the embedded emulator; every markup the component produced
/// is kept (<see cref="MarkupLog"/>), so a progress state that lasted only while the service worked is still seen,
/// and so no private key can have been in any of them.
/// </summary>
[Collection(StepComponentsGroup.Name)]
public sealed class EnrollmentStepTests(PortalFactory factory) : IAsyncDisposable
{
    private readonly StepHarness _harness = new(factory);

    // xunit disposes the test class after each test, as it did the former IAsyncLifetime.
    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task The_enrollment_step_flags_bad_ids_and_twin_json_as_typed_then_saves_with_progress_and_shows_the_live_group()
    {
        var (op, _) = await _harness.UsersAsync("bu-eg");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "bueg");
        var view = (await wizard.Setups.GetAsync(op, id)).Value!;
        await using var ctx = _harness.NewContext(wizard);
        var cut = ctx.Render<EnrollmentStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));
        var log = MarkupLog.Of(cut);

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
        log.AssertNoKeyMaterial();
    }

    [Fact]
    public async Task A_viewer_sees_the_enrollment_step_read_only_without_a_save_button()
    {
        var (op, viewer) = await _harness.UsersAsync("bu-egv");
        await using var scope = factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "buegv");
        var view = (await wizard.Setups.GetAsync(viewer, id)).Value!;
        await using var ctx = _harness.NewContext(wizard);
        var cut = ctx.Render<EnrollmentStep>(p => p.Add(s => s.View, view).Add(s => s.User, viewer));

        Assert.Empty(cut.FindAll("[data-save-group]"));
        Assert.NotNull(cut.Find("#group-id").GetAttribute("disabled"));
    }
}
