using CheeseCave.Portal.Automation.Grants;

namespace CheeseCave.Portal.Tests.Automation;

public sealed class GrantPatternTests
{
    [Theory]
    [InlineData("line3-*", "line3-0001", true)]
    [InlineData("line3-*", "LINE3-0001", true)]
    [InlineData("line3-*", "line4-0001", false)]
    [InlineData("line3-*", "xline3-0001", false)]
    [InlineData("line3-??", "line3-01", true)]
    [InlineData("line3-??", "line3-001", false)]
    [InlineData("cave.a.*", "cave.a.x", true)]
    [InlineData("cave.a.*", "caveXaXx", false)]
    public void A_glob_matches_whole_registration_ids_case_insensitively(string pattern, string id, bool matches) =>
        Assert.Equal(matches, GrantPattern.Parse(pattern).Pattern!.Matches(id));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("*", "at least 3 fixed characters")]
    [InlineData("ab*", "at least 3 fixed characters")]
    [InlineData("line 3*", "contains ' '")]
    [InlineData("line(3)*", "contains '()'")]
    public void A_pattern_that_could_cover_everything_or_is_not_a_registration_id_is_refused(string pattern, string sentence) =>
        Assert.Contains(sentence, GrantPattern.Parse(pattern).Problem, StringComparison.Ordinal);
}
