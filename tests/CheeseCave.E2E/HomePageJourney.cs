using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

public sealed partial class HomePageJourney(PortalServer server) : IClassFixture<PortalServer>
{
    [Fact]
    public async Task VisitorSeesTheProductAndCanToggleTheNavigation()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchChromiumAsync(playwright);
        var (page, problems) = await OpenHomeAsync(browser, width: 1366, height: 900);

        var heading = page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Level = 1 });
        Assert.Equal("CheeseCave Portal", (await heading.TextContentAsync())?.Trim());
        Assert.Equal("CheeseCave Portal", await page.TitleAsync());
        Assert.Equal(10, await page.Locator("[data-step]").CountAsync());
        await Assertions.Expect(page.GetByRole(AriaRole.Main)).ToHaveCountAsync(1); // landmarks: banner, navigation, main
        await Assertions.Expect(page.GetByRole(AriaRole.Main).GetByRole(AriaRole.Heading, new LocatorGetByRoleOptions { Level = 1 })).ToHaveCountAsync(1);

        // The drawer round-trips through the circuit: closing and reopening it proves interactivity.
        var drawer = page.Locator("#nav-drawer");
        var toggle = page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Toggle navigation" });
        await Assertions.Expect(drawer).ToHaveClassAsync(DrawerOpen());
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Overview" })).ToBeVisibleAsync();

        await toggle.ClickAsync();
        await Assertions.Expect(drawer).ToHaveClassAsync(DrawerClosed());
        await Assertions.Expect(toggle).ToHaveAttributeAsync("aria-expanded", "false");

        await toggle.ClickAsync();
        await Assertions.Expect(drawer).ToHaveClassAsync(DrawerOpen());
        await Assertions.Expect(toggle).ToHaveAttributeAsync("aria-expanded", "true");

        await SaveScreenshotAsync(page, "home.png");
        await AccessibilityAudit.AssertPageAsync(page, "home");
        Assert.Empty(problems);
    }

    [Fact]
    public async Task HomePageFitsAPhoneScreen()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchChromiumAsync(playwright);
        var (page, problems) = await OpenHomeAsync(browser, width: 390, height: 844);

        // On a small screen the responsive drawer starts closed and opens over the content.
        var drawer = page.Locator("#nav-drawer");
        await Assertions.Expect(drawer).ToHaveClassAsync(DrawerClosed());
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Toggle navigation" }).ClickAsync();
        await Assertions.Expect(drawer).ToHaveClassAsync(DrawerOpen());
        await page.Mouse.ClickAsync(380, 420); // on the overlay, right of the drawer
        await Assertions.Expect(drawer).ToHaveClassAsync(DrawerClosed());

        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
        if (overflow > 0)
        {
            var culprits = await page.EvaluateAsync<string[]>(
                "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)" +
                ".slice(0, 8).map(e => `${e.tagName.toLowerCase()}.${e.className} right=${e.getBoundingClientRect().right}`)");
            Assert.Fail($"the page is {overflow}px wider than a phone screen: {string.Join("; ", culprits)}");
        }

        await SaveScreenshotAsync(page, "home-phone.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Browser.ArtifactsDirectory(), "home-phone-top.png") });
        Assert.Empty(problems);
    }

    /// <summary>
    /// Signs in as the administrator (created through the setup link on first use), opens <c>/</c>, waits for the
    /// circuit and collects console errors (CSP violations among them).
    /// </summary>
    private async Task<(IPage Page, List<string> Problems)> OpenHomeAsync(IBrowser browser, int width, int height)
    {
        var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            StorageStatePath = await server.AdministratorStorageStateAsync(browser),
        });
        var page = await context.NewPageAsync();
        var problems = Journeys.CollectProblems(page);

        var response = await page.GotoAsync(server.BaseAddress.ToString());
        Assert.Equal(200, response?.Status);
        Assert.Equal(server.BaseAddress.ToString(), page.Url); // signed in: no detour through the sign-in page

        await Journeys.WaitForCircuitAsync(page);
        return (page, problems);
    }

    private static Task SaveScreenshotAsync(IPage page, string fileName) => Journeys.SaveScreenshotAsync(page, fileName);

    [GeneratedRegex(@"\bmud-drawer--open\b")]
    private static partial Regex DrawerOpen();

    [GeneratedRegex(@"\bmud-drawer--closed\b")]
    private static partial Regex DrawerClosed();
}
