using CheeseCave.Pki;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// A CA rollover in the browser: a provisioned setup (prepared through the handlers, as the pages call them) gets a
/// new CA; each step is one button on /setups/{id}/rollover, until the old CA is retired (the re-issue runs in the
/// background and its outcome comes back to the page). Then a CA made elsewhere is imported without its key through the
/// form, uploaded, its verification code shown for proof by hand, and that rollover is cancelled.
/// </summary>
public sealed class RolloverJourney
{
    [Fact]
    public async Task AnAdministratorRollsTheSetupsCaOverStepByStepInTheBrowser()
    {
        var server = new PortalServer();
        await ((IAsyncLifetime)server).InitializeAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await Browser.LaunchChromiumAsync(playwright);
            var state = await server.AdministratorStorageStateAsync(browser);
            var admin = await server.PrincipalForAsync(PortalServer.AdministratorName);
            int setupId;
            await using (var scope = server.Services.CreateAsyncScope())
            {
                var slices = new SetupSlices(scope.ServiceProvider) { PollInterval = TimeSpan.FromMilliseconds(50) };
                setupId = (await slices.Setups.CreateAsync(admin, "Cave rollover")).Value!.Id;
                Assert.True((await slices.Dps.CreateDpsAsync(admin, setupId, "cheesecave-rg", "rollover-dps", "eastus")).Succeeded);
                Assert.True((await slices.Hubs.CreateHubAsync(admin, setupId, "rollover-hub", "eastus")).Succeeded);
                Assert.True((await slices.Hubs.LinkHubAsync(admin, setupId, "rollover-hub", "iothubowner", 1, true)).Succeeded);
                Assert.True((await slices.CaGeneration.GenerateCaAsync(admin, setupId, "Cave Root 2026", "Cave Intermediate 2026", ProfilePreset.Recommended)).Succeeded);
                Assert.True((await slices.Upload.UploadCaAsync(admin, setupId)).Succeeded);
                Assert.True((await slices.OneClickProof.VerifyCaAsync(admin, setupId)).Succeeded);
                var root = (await slices.Setups.GetAsync(admin, setupId)).Value!.Root!;
                Assert.True((await slices.Enrollment.SaveEnrollmentGroupAsync(admin, setupId, new EnrollmentGroupForm { GroupId = "cave-devices", PrimaryCa = root.DpsCertificateName! })).Succeeded);
                Assert.True((await slices.Devices.IssueDevicesAsync(admin, setupId, ["cave-001", "cave-002"])).Succeeded);
            }

            await using var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions
            {
                ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
                StorageStatePath = state,
            });
            var page = await context.NewPageAsync();
            var problems = Journeys.CollectProblems(page);
            await page.GotoAsync($"{server.BaseAddress}setups/{setupId}/rollover");
            await Journeys.WaitForCircuitAsync(page);
            await page.Locator("[data-start-rollover]").WaitForAsync(new() { Timeout = Journeys.StateTimeout });
            await Journeys.SaveScreenshotAsync(page, "rollover-1-start.png");

            await page.Locator("[data-start-rollover]").ClickAsync();
            var steps = page.Locator("[data-rollover-stage]");
            await Assertions.Expect(steps).ToHaveAttributeAsync("data-rollover-stage", "CaCreated", new() { Timeout = Journeys.StateTimeout });
            foreach (var (step, after) in new[] { ("Upload", "Uploaded"), ("Prove", "Verified"), ("Trust", "Trusted") })
            {
                await page.Locator($"[data-run-step='{step}']").ClickAsync();
                await Assertions.Expect(steps).ToHaveAttributeAsync("data-rollover-stage", after, new() { Timeout = Journeys.StateTimeout });
            }

            await Journeys.SaveScreenshotAsync(page, "rollover-2-overlap.png");
            await page.Locator("[data-run-step='Reissue']").ClickAsync();
            await Assertions.Expect(steps).ToHaveAttributeAsync("data-rollover-stage", "Reissued", new() { Timeout = Journeys.StateTimeout });
            await Assertions.Expect(page.Locator("[data-reissued]")).ToContainTextAsync("Re-issued 2 device certificate(s)");
            await Assertions.Expect(page.Locator("[data-download='rollover-batch']")).ToHaveCountAsync(1);
            await Journeys.SaveScreenshotAsync(page, "rollover-3-reissued.png");

            await page.Locator("[data-run-step='Retire']").ClickAsync();
            await Assertions.Expect(page.Locator("[data-rollover-finished]")).ToContainTextAsync("retired the old CA", new() { Timeout = Journeys.StateTimeout });
            await Journeys.SaveScreenshotAsync(page, "rollover-4-retired.png");

            // A second rollover to a CA made elsewhere, imported without its key through the form, then abandoned.
            var folder = Directory.CreateTempSubdirectory("cheesecave-e2e-rollover-").FullName;
            using (var outside = new CertificateAuthority(TimeProvider.System).CreateRoot(new RootCaRequest("Cave Outside Root 2028")))
            {
                await File.WriteAllTextAsync(Path.Combine(folder, "outside.pem"), CertificateExport.ToPem(outside.Certificate));
            }

            await page.GetByText("Import an existing CA").ClickAsync();
            await page.Locator("[data-import-form]").WaitForAsync(new() { Timeout = Journeys.StateTimeout });
            await page.Locator("#import-ca-certificate").SetInputFilesAsync(Path.Combine(folder, "outside.pem"));
            await page.Locator("[data-import-submit]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-import-outcome]")).ToContainTextAsync("without its private key", new() { Timeout = Journeys.StateTimeout });
            await Journeys.WaitForCircuitAsync(page);
            await Assertions.Expect(steps).ToHaveAttributeAsync("data-rollover-stage", "CaCreated", new() { Timeout = Journeys.StateTimeout });
            await page.Locator("[data-run-step='Upload']").ClickAsync();
            await Assertions.Expect(steps).ToHaveAttributeAsync("data-rollover-stage", "Uploaded", new() { Timeout = Journeys.StateTimeout });
            await Assertions.Expect(page.Locator("[data-run-step='Prove']")).ToHaveCountAsync(0); // no key: by hand only
            await page.Locator("[data-get-code]").ClickAsync();
            await page.Locator("[data-copy-field='rollover-verification-code']").WaitForAsync(new() { Timeout = Journeys.StateTimeout });
            await Assertions.Expect(page.Locator("[data-download='verification-code']")).ToHaveCountAsync(1);
            await Journeys.SaveScreenshotAsync(page, "rollover-5-imported-proof-by-hand.png");

            await page.Locator("[data-cancel-start]").ClickAsync();
            await Journeys.SaveScreenshotAsync(page, "rollover-6-cancel-confirm.png");
            await page.Locator("[data-cancel-yes]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-rollover-cancelled]")).ToContainTextAsync("cancelled the rollover", new() { Timeout = Journeys.StateTimeout });
            await Journeys.SaveScreenshotAsync(page, "rollover-7-cancelled.png");
            Directory.Delete(folder, recursive: true);
            Assert.Empty(problems);
        }
        finally
        {
            await ((IAsyncLifetime)server).DisposeAsync();
        }
    }
}
