using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// The certificate inventory as an operator uses it after day one: a setup with a root, an intermediate and thirty devices (prepared
/// through the handlers, as the wizard's pages call them; one revoked, two close to expiry), then /certificates in the
/// browser: the expiry panel on the home page, filters, paging, a thumbprint search, and the CSV export downloaded
/// through its endpoint.
/// </summary>
public sealed class InventoryJourney
{
    [Fact]
    public async Task AnOperatorFindsFiltersPagesAndExportsTheCertificateInventory()
    {
        var server = new PortalServer();
        await ((IAsyncLifetime)server).InitializeAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await Browser.LaunchChromiumAsync(playwright);
            var storage = await server.AdministratorStorageStateAsync(browser);
            var admin = await server.PrincipalForAsync(PortalServer.AdministratorName);

            int setupId;
            await using (var scope = server.Services.CreateAsyncScope())
            {
                var slices = new SetupSlices(scope.ServiceProvider) { PollInterval = TimeSpan.FromMilliseconds(50) };
                setupId = (await slices.Setups.CreateAsync(admin, "Cave inventory")).Value!.Id;
                Assert.True((await slices.Dps.CreateDpsAsync(admin, setupId, "cheesecave-rg", "cave-inventory-dps", "eastus")).Succeeded);
                Assert.True((await slices.CaGeneration.GenerateCaAsync(admin, setupId, "Cave Inventory Root", "Cave Inventory Intermediate", ProfilePreset.Recommended)).Succeeded);
                var batch = await slices.Devices.IssueDevicesAsync(admin, setupId, [.. Enumerable.Range(1, 30).Select(i => $"cellar-{i:000}")]);
                Assert.True(batch.Succeeded, batch.Error?.Message);
            }

            var now = DateTimeOffset.UtcNow;
            await using (var scope = server.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
                await db.SetupDevices.Where(d => d.RegistrationId == "cellar-003").ExecuteUpdateAsync(u => u.SetProperty(d => d.NotAfter, now.AddDays(9)));
                await db.SetupDevices.Where(d => d.RegistrationId == "cellar-007").ExecuteUpdateAsync(u => u.SetProperty(d => d.NotAfter, now.AddDays(21)));
                await db.SetupDevices.Where(d => d.RegistrationId == "cellar-011").ExecuteUpdateAsync(u => u
                    .SetProperty(d => d.RevokedAt, now).SetProperty(d => d.RevokedBy, PortalServer.AdministratorName).SetProperty(d => d.RevocationReason, "lost in transit"));
            }

            string sha1;
            await using (var scope = server.Services.CreateAsyncScope())
            {
                sha1 = await scope.ServiceProvider.GetRequiredService<PortalDbContext>().SetupDevices.Where(d => d.RegistrationId == "cellar-005").Select(d => d.ThumbprintSha1).SingleAsync();
            }

            await using var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions
            {
                ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
                StorageStatePath = storage,
                AcceptDownloads = true,
            });
            var page = await context.NewPageAsync();
            var problems = Journeys.CollectProblems(page);
            var a11y = new AccessibilityAudit();

            // The overview: what expires within 30 days, with the watch's run and (for an administrator) its settings.
            await page.GotoAsync(server.BaseAddress.ToString());
            await Journeys.WaitForCircuitAsync(page);
            var within30 = page.Locator("[data-expiry-bucket='30']");
            await Assertions.Expect(within30.Locator("[data-expiry-count]")).ToHaveAttributeAsync("data-expiry-count", "2");
            await Assertions.Expect(within30.Locator("[data-expiry-item]").First).ToHaveAttributeAsync("data-expiry-item", "cellar-003");
            await Assertions.Expect(page.Locator("[data-expiry-settings]")).ToContainTextAsync("webhook off");
            await a11y.ScanAsync(page, "home page with the expiry panel");

            // The inventory: CAs first, 25 to a page, so two pages for 32 certificates.
            await page.Locator("[data-nav=certificates]").ClickAsync();
            await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/certificates$"));
            await Journeys.WaitForCircuitAsync(page);
            var rows = page.Locator("[data-inventory-row]");
            await Assertions.Expect(rows).ToHaveCountAsync(25);
            await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-inventory-row", new System.Text.RegularExpressions.Regex("^ca-"));
            await Assertions.Expect(page.Locator("[data-inventory-row] a[data-detail-link]").First).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("^certificates/cas/\\d+$"));
            await Assertions.Expect(page.Locator("[data-placement]").Filter(new() { HasText = "not registered yet" }).First).ToBeVisibleAsync();
            await Journeys.SaveScreenshotAsync(page, "certificates-inventory.png");
            await a11y.ScanAsync(page, "certificate inventory");

            await page.GetByRole(AriaRole.Button, new() { Name = "Next page" }).ClickAsync();
            await Assertions.Expect(rows).ToHaveCountAsync(7);
            await Assertions.Expect(rows.Last.Locator("a[data-detail-link]")).ToHaveTextAsync("cellar-030");

            await page.Locator("#inventory-status").SelectOptionAsync("revoked");
            await Assertions.Expect(rows).ToHaveCountAsync(1);
            await Assertions.Expect(page.Locator("[data-status=revoked]")).ToHaveCountAsync(1);

            // Status filter: the two expiring devices, soonest first.
            await page.Locator("#inventory-status").SelectOptionAsync("expiring");
            await Assertions.Expect(rows).ToHaveCountAsync(2);
            await Assertions.Expect(rows.Locator("a[data-detail-link]")).ToHaveTextAsync(["cellar-003", "cellar-007"]);
            await Journeys.SaveScreenshotAsync(page, "certificates-expiring.png");

            // Export what is shown, through the endpoint.
            var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("[data-export-csv]").ClickAsync());
            Assert.StartsWith("cheesecave-certificates-", download.SuggestedFilename, StringComparison.Ordinal);
            var csv = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(await download.PathAsync())).TrimStart('\uFEFF');
            var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.StartsWith("kind,id,setup_id,setup,name,", lines[0], StringComparison.Ordinal);
            Assert.Contains(",cellar-003,", lines[1], StringComparison.Ordinal);
            Assert.Contains(",expiring,", lines[2], StringComparison.Ordinal);

            // A pasted thumbprint with colons, lower case, finds its device; the details row shows both thumbprints.
            await page.Locator("[data-clear-filters]").ClickAsync();
            await Assertions.Expect(rows).ToHaveCountAsync(25);
            await page.Locator("#inventory-text").FillAsync(string.Join(':', sha1.Chunk(2).Select(c => new string(c))).ToLowerInvariant());
            await Assertions.Expect(rows).ToHaveCountAsync(1);
            await Assertions.Expect(rows.Locator("a[data-detail-link]")).ToHaveTextAsync("cellar-005");
            await page.Locator("[data-expand^=device-]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-inventory-details]")).ToContainTextAsync(sha1);
            await Journeys.SaveScreenshotAsync(page, "certificates-search.png");
            await a11y.ScanAsync(page, "certificate inventory, searched and expanded");

            a11y.AssertNoBlockingViolations();
            Assert.Empty(problems);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
