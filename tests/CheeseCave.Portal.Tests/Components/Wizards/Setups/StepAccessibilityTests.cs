using Bunit;
using CheeseCave.Portal.Components.Wizards.Setups;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Setups.Operations;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace CheeseCave.Portal.Tests.Components.Wizards.Setups;

/// <summary>bUnit: what the wizard tells a person who cannot see the page (errors, step states) and where it leads next.</summary>
public sealed class StepAccessibilityTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task A_wrong_DPS_name_is_the_text_the_field_is_described_by()
    {
        await factory.CreateUserAsync("a11y-op", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("a11y-op");
        await using var scope = factory.Services.CreateAsyncScope();
        var slices = new SetupSlices(scope.ServiceProvider);
        var id = (await slices.Setups.CreateAsync(op, "A11y cave")).Value!.Id;
        var view = (await slices.Setups.GetAsync(op, id)).Value!;
        await using var ctx = NewContext(slices, scope.ServiceProvider);
        var cut = ctx.Render<DpsStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#dps-name")));

        await cut.InvokeAsync(() => cut.Find("#dps-name").Input("Bad_Name!"));

        var input = cut.Find("#dps-name");
        Assert.True(input.GetAttribute("aria-describedby") is { Length: > 0 }, input.ParentElement!.ParentElement!.ParentElement!.OuterHtml);
        Assert.Equal("true", input.GetAttribute("aria-invalid"));
        var described = cut.Find("#" + input.GetAttribute("aria-describedby"));
        Assert.Equal(SetupNames.CheckDpsName("Bad_Name!").Problem, described.TextContent.Trim());
        Assert.False(described.HasAttribute("hidden")); // the problem people see is the one the field is described by
        Assert.Single(cut.FindAll("[data-field-problem]"));
    }

    [Fact]
    public async Task The_test_device_is_a_labelled_native_select_whose_value_is_committed_on_change()
    {
        await factory.CreateUserAsync("a11y-tester", PortalRoles.Operator);
        var op = await factory.PrincipalForAsync("a11y-tester");
        await using var scope = factory.Services.CreateAsyncScope();
        var slices = new SetupSlices(scope.ServiceProvider);
        var id = (await slices.Setups.CreateAsync(op, "A11y test cave")).Value!.Id;
        Assert.True((await slices.Dps.CreateDpsAsync(op, id, "cheesecave-rg", "a11y-test-dps", "eastus")).Succeeded);
        Assert.True((await slices.CaGeneration.GenerateCaAsync(op, id, "A11y Root", null, CheeseCave.Pki.ProfilePreset.Recommended)).Succeeded);
        var devices = await slices.Devices.IssueDevicesAsync(op, id, ["a11y-001"]);
        Assert.True(devices.Succeeded, devices.Error?.Message);
        var view = (await slices.Setups.GetAsync(op, id)).Value!;
        await using var ctx = NewContext(slices, scope.ServiceProvider);
        var cut = ctx.Render<TestStep>(p => p.Add(s => s.View, view).Add(s => s.User, op));

        var select = cut.WaitForElement("select#test-device");
        Assert.Equal("Device", cut.Find("label[for=test-device]").TextContent.Trim());
        Assert.StartsWith("a11y-001 (batch ", select.QuerySelector("option[selected]")!.TextContent.Trim(), StringComparison.Ordinal); // the device whose key is here
        await cut.InvokeAsync(() => select.Change("0"));
        Assert.Equal("A throwaway test device (issued now, never stored)", cut.Find("select#test-device option[selected]").TextContent.Trim());
    }

    [Fact]
    public void Each_step_says_its_state_in_words_and_a_step_that_cannot_be_used_yet_is_not_offered_as_next()
    {
        using var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        var steps = WizardStep.All.Select(s => s.Number switch
        {
            1 => new WizardStepStatus(s, StepState.Done, "cave-dps in eastus"),
            2 => new WizardStepStatus(s, StepState.Blocked, "Needs a DPS"),
            _ => new WizardStepStatus(s, StepState.Ready, "Not yet"),
        }).ToList();

        var cut = ctx.Render<WizardShell>(p => p.Add(s => s.Steps, steps).Add(s => s.Active, WizardStep.All[0]).Add(s => s.HrefFor, s => s.Slug));

        Assert.Equal("Step 1, done:", cut.Find("[data-step] [data-step-state-text]").TextContent.Trim());
        Assert.Equal("true", cut.Find("[data-step] .cc-wizard-marker").GetAttribute("aria-hidden"));
        Assert.Contains(cut.FindAll("[data-step-state-text]"), e => e.TextContent.Trim() == "Step 2, not possible yet:");
        var blocked = cut.Find("[data-next-step]");
        Assert.True(blocked.HasAttribute("disabled"));
        Assert.False(blocked.HasAttribute("href"));
        Assert.Equal("next-step-blocked", blocked.GetAttribute("aria-describedby"));
        Assert.Equal("Not possible yet: Needs a DPS.", cut.Find("#next-step-blocked").TextContent.Trim());

        var ready = steps.Select(s => s.Step.Number == 2 ? s with { State = StepState.Ready } : s).ToList();
        cut.Render(p => p.Add(s => s.Steps, ready));
        Assert.Equal($"Next: {WizardStep.All[1].Title}", cut.Find("[data-next-step]").TextContent.Trim());
        Assert.Equal(WizardStep.All[1].Slug, cut.Find("[data-next-step]").GetAttribute("href"));
        Assert.Empty(cut.FindAll("[data-next-blocked]"));
    }

    [Theory]
    [InlineData("{ \"cave\": north }", "The tags is not valid JSON at line 1, column 11 (near 'north }'): a text value or name needs double quotes, e.g. \"north\".")]
    [InlineData("{ 'cave': \"north\" }", "The tags is not valid JSON at line 1, column 3 (near ''cave': \"north\" }'): JSON uses double quotes (\"), not single quotes.")]
    [InlineData("{ \"cave\": \"north\", }", "The tags is not valid JSON at line 1, column 20 (near '}'): there is a comma before the closing brace or bracket; remove it.")]
    [InlineData("{\n  \"cave\": \"north\"", "The tags is not valid JSON at line 2, column 18 at the end: it ends too early: a closing brace }, a bracket ] or a quote is missing.")]
    public void A_broken_twin_says_plainly_what_is_wrong_and_where_once(string json, string expected)
    {
        var (value, problem) = EnrollmentRules.ParseTwinObject(json, "tags");

        Assert.Null(value);
        Assert.Equal(expected, problem);
        Assert.DoesNotContain("LineNumber", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePosition", problem, StringComparison.Ordinal);
    }

    private static BunitContext NewContext(SetupSlices slices, IServiceProvider services)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        slices.RegisterIn(ctx.Services);
        ctx.Services.AddSingleton(services.GetRequiredService<SetupOperations>());
        ctx.Services.AddSingleton(TimeProvider.System);
        return ctx;
    }
}
