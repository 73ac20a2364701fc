using System.Globalization;
using System.Text;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// axe-core scans of the pages a journey visits, against WCAG 2.1 A and AA. Every violation is recorded with its page;
/// serious and critical ones fail the journey at <see cref="AssertNoBlockingViolations"/>, and the failure message lists
/// all of them (rule, impact, target, help URL) so one run shows everything to fix.
/// </summary>
public sealed class AccessibilityAudit
{
    private static readonly string[] WcagTags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
    private static readonly string[] BlockingImpacts = ["serious", "critical"];

    private readonly List<Finding> _findings = [];
    private readonly List<string> _scanned = [];

    private sealed record Finding(string Page, AxeResultItem Violation)
    {
        public bool Blocking => BlockingImpacts.Contains(Violation.Impact, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The pages scanned so far, in order.</summary>
    public IReadOnlyList<string> Scanned => _scanned;

    /// <summary>
    /// Scans the page as it is now. <paramref name="excludedRules"/> maps a rule id to the reason it is a false positive
    /// on this page; it applies to this scan only, and the reason is required so the exclusion stays justified.
    /// </summary>
    public async Task ScanAsync(IPage page, string pageName, IReadOnlyDictionary<string, string>? excludedRules = null)
    {
        ArgumentNullException.ThrowIfNull(page);
        // Let finite CSS transitions and animations (snackbar and popover fades) finish, or contrast is measured mid-fade;
        // endless ones (progress spinners) are left running.
        await page.EvaluateAsync(Journeys.FiniteAnimationsFinished);

        var options = new AxeRunOptions
        {
            RunOnly = new RunOnlyOptions { Type = "tag", Values = [.. WcagTags] },
        };
        if (excludedRules is { Count: > 0 })
        {
            Assert.All(excludedRules, r => Assert.False(string.IsNullOrWhiteSpace(r.Value), $"exclusion of {r.Key} on {pageName} needs a reason"));
            options.Rules = excludedRules.ToDictionary(r => r.Key, _ => new RuleOptions { Enabled = false });
        }

        var result = await page.RunAxe(options);
        _scanned.Add(pageName);
        _findings.AddRange(result.Violations.Select(v => new Finding(pageName, v)));
    }

    /// <summary>Fails if any scan found a serious or critical violation; the message lists every violation found.</summary>
    public void AssertNoBlockingViolations()
    {
        if (!_findings.Any(f => f.Blocking))
        {
            return;
        }

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Accessibility (WCAG 2.1 A/AA): {_findings.Count(f => f.Blocking)} serious or critical violation(s) on {string.Join(", ", _findings.Where(f => f.Blocking).Select(f => f.Page).Distinct())}. All violations:");
        foreach (var finding in _findings.OrderByDescending(f => f.Blocking))
        {
            var v = finding.Violation;
            text.AppendLine(CultureInfo.InvariantCulture, $"- [{finding.Page}] {v.Id} ({v.Impact}): {v.Help} {v.HelpUrl}");
            foreach (var node in v.Nodes)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    target {node.Target}: {Shorten(node.Html)}");
                var checks = (node.Any ?? []).Concat(node.All ?? []).Concat(node.None ?? []).Select(c => c.Message).Where(m => !string.IsNullOrWhiteSpace(m));
                foreach (var message in checks.Distinct())
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"      {message.ReplaceLineEndings(" ")}");
                }
            }
        }

        Assert.Fail(text.ToString());
    }

    /// <summary>Scans one page and fails at once (for single-page checks such as the fixture's first-run page).</summary>
    public static async Task AssertPageAsync(IPage page, string pageName, IReadOnlyDictionary<string, string>? excludedRules = null)
    {
        var audit = new AccessibilityAudit();
        await audit.ScanAsync(page, pageName, excludedRules);
        audit.AssertNoBlockingViolations();
    }

    private static string Shorten(string? html) =>
        html is null ? "" : html.Length <= 200 ? html : string.Concat(html.AsSpan(0, 200), "…");
}
