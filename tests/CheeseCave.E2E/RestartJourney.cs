using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// The portal is stopped in the middle of a setup (embedded emulator included) and started again on the same data
/// folder: the setup resumes where it stopped, shows what was done (read back from the database and the emulator), and
/// the next step works with the CA keys and emulator state that survived.
/// </summary>
public sealed partial class RestartJourney
{
    private const string SetupName = "Cave east";
    private const string DpsName = "cave-east-dps";
    private const string HubName = "cave-east-hub";

    [Fact]
    public async Task SetupResumesAfterThePortalRestartsOnTheSameData()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchChromiumAsync(playwright);
        var audit = new AccessibilityAudit();

        var first = new PortalServer { KeepData = true };
        try
        {
            await StopAndRestartAsync(browser, first, audit);
        }
        finally
        {
            // The first server keeps its folder for the second; if the journey stopped before the second ran, remove it.
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(first.DataDirectory))
            {
                Directory.Delete(first.DataDirectory, recursive: true);
            }
        }

        audit.AssertNoBlockingViolations();
    }

    private static async Task StopAndRestartAsync(IBrowser browser, PortalServer first, AccessibilityAudit audit)
    {
        string dataDirectory = first.DataDirectory, idScope, thumbprint;
        int setupId;
        try
        {
            await ((IAsyncLifetime)first).InitializeAsync();
            var (context, page, problems) = await OpenAsync(browser, first);
            await using (context)
            {
                try
                {
                    (setupId, idScope, thumbprint) = await WalkThroughTheCaStepAsync(page, first);
                }
                catch (Exception ex) when (ex is TimeoutException or PlaywrightException)
                {
                    // What the browser showed when the walk stalled, for the test artifacts.
                    await Journeys.SaveScreenshotAsync(page, "restart-failure.png");
                    throw new TimeoutException($"The walk stalled at {page.Url}: {ex.Message}", ex);
                }
                Assert.Empty(problems);
            }
        }
        finally
        {
            await ((IAsyncLifetime)first).DisposeAsync(); // stops the host and the embedded emulator; the data stays
        }

        Assert.True(Directory.Exists(Path.Combine(dataDirectory, "emulator")), $"the emulator's data is not under {dataDirectory}");

        var second = new PortalServer { DataDirectory = dataDirectory };
        try
        {
            await ((IAsyncLifetime)second).InitializeAsync();
            var (context, page, problems) = await OpenAsync(browser, second);
            await using (context)
            {
                // The list offers the setup at the step it stopped at: the upload, with steps 1-5 done.
                await page.GotoAsync(second.BaseAddress + "setups");
                await Journeys.WaitForCircuitAsync(page);
                var row = page.Locator($"[data-setup-row='{SetupName}']");
                await Assertions.Expect(row).ToContainTextAsync(idScope);
                await audit.ScanAsync(page, "setups list (after restart)");
                await row.GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = "Open" }).ClickAsync();
                await page.WaitForURLAsync(StepUrl(second, setupId, "upload"));
                await Journeys.WaitForCircuitAsync(page);
                foreach (var done in new[] { "dps", "hubs", "allocation", "endpoints", "ca" })
                {
                    await Assertions.Expect(page.Locator($"[data-step={done}]")).ToHaveAttributeAsync("data-state", "Done");
                }

                await Assertions.Expect(page.Locator("[data-step=dps] [data-step-status]")).ToContainTextAsync(DpsName);
                await Assertions.Expect(page.Locator("[data-step=hubs] [data-step-status]")).ToContainTextAsync(HubName);
                await Assertions.Expect(page.Locator("[data-upload-certificate]")).ToContainTextAsync(thumbprint);
                await Journeys.SaveScreenshotAsync(page, "restart-resumed-upload.png");
                await audit.ScanAsync(page, "step 6 upload (after restart)");

                // Earlier results are read back: the DPS and its ID scope and the linked hub from the restarted emulator,
                // the CA from the database.
                await page.GotoAsync($"{second.BaseAddress}setups/{setupId}/dps");
                await Journeys.WaitForCircuitAsync(page);
                await Assertions.Expect(page.Locator("[data-dps-ready]")).ToContainTextAsync(idScope); // first ARM call of this portal
                await page.GotoAsync($"{second.BaseAddress}setups/{setupId}/hubs");
                await Journeys.WaitForCircuitAsync(page);
                await Assertions.Expect(page.Locator("[data-linked-hubs]")).ToContainTextAsync(HubName);
                await page.GotoAsync($"{second.BaseAddress}setups/{setupId}/ca");
                await Journeys.WaitForCircuitAsync(page);
                await Assertions.Expect(page.Locator("[data-certificate=Root] [data-thumbprint]")).ToHaveTextAsync(thumbprint);

                // One more step succeeds: the CA is uploaded to the DPS in the restarted emulator.
                await Journeys.NextStepAsync(page, "upload", StepUrl(second, setupId, "upload"));
                await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Upload to DPS" }).ClickAsync();
                await Assertions.Expect(page.Locator("[data-uploaded]")).ToContainTextAsync("unverified");
                await Assertions.Expect(page.Locator("[data-step=upload]")).ToHaveAttributeAsync("data-state", "Done");
                await Journeys.SaveScreenshotAsync(page, "restart-uploaded.png");
                await audit.ScanAsync(page, "step 6 upload (uploaded after restart)");
                Assert.Empty(problems);
            }
        }
        finally
        {
            await ((IAsyncLifetime)second).DisposeAsync(); // KeepData is off: the folder goes
        }
    }

    private static async Task<(IBrowserContext Context, IPage Page, List<string> Problems)> OpenAsync(IBrowser browser, PortalServer server)
    {
        var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
            StorageStatePath = await server.AdministratorStorageStateAsync(browser),
        });
        var page = await context.NewPageAsync();
        return (context, page, Journeys.CollectProblems(page));
    }

    /// <summary>Steps 1-5 on the happy path: DPS, a new linked hub, allocation kept, endpoints seen, root CA generated.</summary>
    private static async Task<(int SetupId, string IdScope, string Thumbprint)> WalkThroughTheCaStepAsync(IPage page, PortalServer server)
    {
        await page.GotoAsync(server.BaseAddress + "setups");
        await Journeys.WaitForCircuitAsync(page);
        await page.Locator("#setup-name").FillAsync(SetupName);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create and start" }).ClickAsync();
        await page.WaitForURLAsync(new Regex($"^{Regex.Escape(server.BaseAddress.ToString())}setups/\\d+/dps$"));
        var setupId = int.Parse(SetupIdInUrl().Match(page.Url).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        await page.Locator("#dps-name").FillAsync(DpsName);
        // The first ARM call of a fresh portal pays for JIT and the emulator's first TLS handshake: slow on a busy machine.
        await Assertions.Expect(page.GetByText($"{DpsName} is available.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create DPS" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-dps-ready]")).ToBeVisibleAsync();
        var idScope = (await page.Locator("[data-dps-ready] [data-id-scope]").TextContentAsync())!.Trim();

        await Journeys.NextStepAsync(page, "hubs", StepUrl(server, setupId, "hubs"));
        await page.Locator("#hub-name").FillAsync(HubName);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create hub" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-panel=link-hub]")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Link hub" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-linked-hubs]")).ToContainTextAsync(HubName);

        await Journeys.NextStepAsync(page, "allocation", StepUrl(server, setupId, "allocation"));
        await Journeys.NextStepAsync(page, "endpoints", StepUrl(server, setupId, "endpoints"));
        await Assertions.Expect(page.Locator("#copy-id-scope")).ToHaveValueAsync(idScope);
        await Journeys.NextStepAsync(page, "ca", StepUrl(server, setupId, "ca"));

        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Generate CA" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-certificate=Root] [data-certificate-details]")).ToContainTextAsync($"CN={SetupName} Root CA");
        await Assertions.Expect(page.Locator("[data-step=ca]")).ToHaveAttributeAsync("data-state", "Done");
        var thumbprint = (await page.Locator("[data-certificate=Root] [data-thumbprint]").TextContentAsync())!.Trim();
        Assert.NotEmpty(thumbprint);
        await Journeys.SaveScreenshotAsync(page, "restart-before-stop.png");
        return (setupId, idScope, thumbprint);
    }

    private static Regex StepUrl(PortalServer server, int setupId, string slug) =>
        new($"^{Regex.Escape($"{server.BaseAddress}setups/{setupId}/{slug}")}$");

    [GeneratedRegex(@"/setups/(\d+)/")]
    private static partial Regex SetupIdInUrl();
}
