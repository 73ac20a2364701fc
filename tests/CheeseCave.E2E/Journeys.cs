using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>Helpers shared by the journeys. They wait on page state, never on time.</summary>
public static class Journeys
{
    /// <summary>
    /// Waits that guard a page load or a new circuit: generous, since on a loaded two-core machine a fresh portal's
    /// first page pays for JIT and the circuit's start.
    /// </summary>
    public const float NavigationTimeout = 120_000;

    /// <summary>Waits for state that a server-side operation produces (ARM calls, CA generation): generous for the same reason.</summary>
    public const float StateTimeout = 90_000;

    /// <summary>Resolves when the page's finite CSS transitions and animations (snackbar and popover fades) have finished; endless ones (progress spinners) are left running.</summary>
    public const string FiniteAnimationsFinished =
        "() => Promise.all(document.getAnimations().filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity).map(a => a.finished.catch(() => null)))";

    /// <summary>Console errors and warnings (CSP violations among them) and page errors, collected as they happen.</summary>
    public static List<string> CollectProblems(IPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                problems.Add($"console {message.Type} on {page.Url}: {message.Text}");
            }
        };
        page.PageError += (_, error) => problems.Add($"page error on {page.Url}: {error}");
        return problems;
    }

    /// <summary>Waits for the circuit: prerendered HTML ignores clicks until it attaches.</summary>
    public static Task WaitForCircuitAsync(IPage page) =>
        page.Locator("[data-interactive=true]").WaitForAsync(new LocatorWaitForOptions { Timeout = NavigationTimeout });

    /// <summary>
    /// Follows the wizard's "next step" button to <paramref name="slug"/> and waits until that step is the current one.
    /// The button is clicked only once it points at that step: right after a navigation the previous step's button can
    /// still be on the page, and clicking it would go nowhere.
    /// </summary>
    public static async Task NextStepAsync(IPage page, string slug, System.Text.RegularExpressions.Regex url)
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.Locator($"[data-next-step][href$='/{slug}']").ClickAsync();
        await page.WaitForURLAsync(url);
        await Assertions.Expect(page.Locator($"[data-step={slug}]")).ToHaveAttributeAsync("aria-current", "step");
    }

    /// <summary>A full-page screenshot once the page has settled: no network requests in flight, fonts loaded, finite animations done.</summary>
    public static async Task SaveScreenshotAsync(IPage page, string fileName)
    {
        ArgumentNullException.ThrowIfNull(page);
        await SettleAsync(page);
        // A full-page capture draws the fixed app bar where the viewport is: from the top it sits where it belongs.
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Path.Combine(Browser.ArtifactsDirectory(), fileName),
            FullPage = true,
        });
    }

    /// <summary>Waits until what the page shows is final: requests done, web fonts ready, transitions finished.</summary>
    public static async Task SettleAsync(IPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle, new PageWaitForLoadStateOptions { Timeout = NavigationTimeout });
        await page.EvaluateAsync("() => document.fonts.ready.then(() => true)");
        await page.EvaluateAsync(FiniteAnimationsFinished);
    }
}
