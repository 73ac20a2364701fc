using Bunit;
using CheeseCave.Portal.Components.Shared;
using Microsoft.AspNetCore.Components;

namespace CheeseCave.Portal.Tests.Components.Shared;

public sealed class AccessibleSelectTests
{
    private enum Cheese { Comte, Gruyere }

    [Fact]
    public async Task The_value_lands_in_the_change_handler_itself_so_a_later_event_sees_it()
    {
        await using var ctx = new BunitContext();
        var bound = "Viewer";
        var cut = ctx.Render<AccessibleSelect<string>>(p => p
            .Add(s => s.Id, "pick")
            .Add(s => s.Label, "Role")
            .Add(s => s.Items, ["Viewer", "Approver"])
            .Add(s => s.Value, bound)
            .Add(s => s.ValueChanged, (string v) => bound = v));

        var change = cut.Find("select").ChangeAsync(new ChangeEventArgs { Value = "Approver" });

        Assert.True(change.IsCompletedSuccessfully); // nothing to wait for: no JS round trip before the value is set
        Assert.Equal("Approver", bound);
        await change;
    }

    [Fact]
    public async Task Renders_a_labelled_select_with_texts_helper_and_a_value_outside_the_list_shown_as_it_is()
    {
        await using var ctx = new BunitContext();
        var cut = ctx.Render<AccessibleSelect<Cheese>>(p => p
            .Add(s => s.Id, "cheese")
            .Add(s => s.Label, "Cheese")
            .Add(s => s.Items, [Cheese.Comte, Cheese.Gruyere])
            .Add(s => s.ItemText, c => c == Cheese.Comte ? "Comté" : "Gruyère")
            .Add(s => s.Value, Cheese.Gruyere)
            .Add(s => s.HelperText, "Aged at least a year.")
            .AddUnmatched("data-cheese", "yes"));

        var select = cut.Find("select#cheese");
        Assert.Equal("Cheese", cut.Find("label[for=cheese]").TextContent);
        Assert.Equal("cheese-help", select.GetAttribute("aria-describedby"));
        Assert.Equal(["Comte", "Gruyere"], select.QuerySelectorAll("option").Select(o => o.GetAttribute("value")));
        Assert.Equal("Gruyère", select.QuerySelector("option[selected]")!.TextContent);
        Assert.NotNull(cut.Find("[data-cheese=yes]"));

        var none = ctx.Render<AccessibleSelect<string>>(p => p.Add(s => s.Id, "r").Add(s => s.Label, "Role").Add(s => s.Items, ["Viewer"]).Add(s => s.Value, "(none)"));
        var shown = none.Find("option[selected]");
        Assert.Equal("(none)", shown.TextContent);
        Assert.True(shown.HasAttribute("disabled"));
    }
}
