using CheeseCave.Portal.Setups;

namespace CheeseCave.Portal.Tests.Common;

/// <summary>Formula starts are defused wherever a spreadsheet may start a cell, and names refuse hidden characters.</summary>
public sealed class SpreadsheetCsvTests
{
    [Theory]
    [InlineData("a;=HYPERLINK(\"http://evil\")", "\"a;'=HYPERLINK(\"\"http://evil\"\")\"")] // a locale or import splitting on ";"
    [InlineData("ok\t+1", "\"ok\t'+1\"")] // an import splitting on tabs
    [InlineData("x; -2+3", "\"x; '-2+3\"")] // spaces after the separator are trimmed by some importers
    [InlineData("a,@SUM(A1)", "\"a,'@SUM(A1)\"")] // an importer that ignores quotes
    [InlineData("one\n=cmd|' /C calc'!A0", "\"one\n'=cmd|' /C calc'!A0\"")]
    [InlineData("=1;=2", "\"'=1;'=2\"")]
    [InlineData("line3-*", "line3-*")] // a hyphen inside a word is not a formula
    [InlineData("2026-12-07", "2026-12-07")]
    [InlineData("CN=device-1", "CN=device-1")]
    [InlineData("a;b", "\"a;b\"")]
    public void Formula_starts_after_a_semicolon_tab_comma_or_line_break_are_defused(string value, string expected) =>
        Assert.Equal(expected, SpreadsheetCsv.Cell(value));

    [Theory]
    [InlineData("Cave\tnorth", "a tab at position 5")]
    [InlineData("Cave\nnorth", "a line break at position 5")]
    [InlineData("Cave\u202Ehtron", "an invisible character (U+202E) at position 5")]
    [InlineData("Cave\u0007", "an invisible character (U+0007) at position 5")]
    public void A_setup_name_with_a_control_or_invisible_character_is_refused(string name, string said)
    {
        var check = SetupNames.CheckSetupName(name);

        Assert.False(check.IsValid);
        Assert.Contains(said, check.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_grant_name_with_a_tab_is_refused()
    {
        var problem = CheeseCave.Portal.Automation.Grants.GrantRules.Check(new("Line\t3", "line3-*", 10, 30));

        Assert.NotNull(problem);
        Assert.Contains("a tab", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ordinary_names_with_accents_and_punctuation_are_accepted()
    {
        Assert.True(SetupNames.CheckSetupName("Cave nord-est, Comté (2026)").IsValid);
        Assert.Null(FreeText.HiddenCharacterProblem("Line 3, Décembre", "name"));
    }
}
