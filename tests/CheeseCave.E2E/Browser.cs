using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>Debian's Chromium driven by Playwright; Playwright's own browser downloads are never used.</summary>
public static class Browser
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
    ];

    public static async Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright)
    {
        ArgumentNullException.ThrowIfNull(playwright);

        // Expectations wait on state; the 5 s default is too short for a circuit on a loaded machine.
        Assertions.SetDefaultExpectTimeout(Journeys.StateTimeout);
        Assert.True(File.Exists(ChromiumPath),
            $"Chromium is missing at {ChromiumPath}; the E2E tests need Debian's browser. Run: apt-get install -y chromium");

        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    /// <summary>
    /// A browser context whose actions and navigations wait as long as state waits do (Playwright's defaults, 30 s,
    /// are too short when both cores are busy).
    /// </summary>
    public static async Task<IBrowserContext> NewContextAsync(IBrowser browser, BrowserNewContextOptions options)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var context = await browser.NewContextAsync(options);
        context.SetDefaultTimeout(Journeys.StateTimeout);
        context.SetDefaultNavigationTimeout(Journeys.NavigationTimeout);
        return context;
    }

    /// <summary><c>test-artifacts/</c> under the repository root (git-ignored), created on demand.</summary>
    public static string ArtifactsDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CheeseCavePortal.sln")))
        {
            directory = directory.Parent;
        }

        Assert.True(directory is not null, $"CheeseCavePortal.sln not found above {AppContext.BaseDirectory}");
        return Directory.CreateDirectory(Path.Combine(directory.FullName, "test-artifacts")).FullName;
    }
}
