using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>Helpers shared by the journeys.</summary>
public static class Journeys
{
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
        page.Locator("[data-interactive=true]").WaitForAsync(new LocatorWaitForOptions { Timeout = 15_000 });

    public static async Task SaveScreenshotAsync(IPage page, string fileName)
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.WaitForTimeoutAsync(400); // let transitions finish
        await page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Path.Combine(Browser.ArtifactsDirectory(), fileName),
            FullPage = true,
        });
    }
}
