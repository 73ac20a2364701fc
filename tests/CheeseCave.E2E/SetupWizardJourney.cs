using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>The administrator creates a setup and walks all ten steps against the embedded emulator.</summary>
public sealed partial class SetupWizardJourney(PortalServer server) : IClassFixture<PortalServer>
{
    [Fact]
    public async Task AdministratorWalksTheSetupFromDpsToAVerifiedCa()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchChromiumAsync(playwright);
        await using var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
            StorageStatePath = await server.AdministratorStorageStateAsync(browser),
        });
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new BrowserContextGrantPermissionsOptions { Origin = server.BaseAddress.GetLeftPart(UriPartial.Authority) });
        var page = await context.NewPageAsync();
        var problems = Journeys.CollectProblems(page);
        var audit = new AccessibilityAudit();

        // The list of setups, reached from the navigation, and a new setup.
        await page.GotoAsync(server.BaseAddress.ToString());
        await Journeys.WaitForCircuitAsync(page);
        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Setup wizard" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "DPS setups", Level = 1 })).ToBeVisibleAsync();
        await audit.ScanAsync(page, "setups list (empty)");
        await page.Locator("#setup-name").FillAsync("Cave north");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create and start" }).ClickAsync();
        await page.WaitForURLAsync(SetupStepUrl("dps"));
        await Assertions.Expect(page.Locator("[data-setup-name]")).ToHaveTextAsync("Cave north");
        await Assertions.Expect(page.Locator("[data-step=dps]")).ToHaveAttributeAsync("data-state", "Ready");

        // Step 1: the name is checked as it is typed, then the DPS is created with progress.
        var name = page.Locator("#dps-name");
        await name.FillAsync("-nope");
        await Assertions.Expect(page.GetByText("may contain only letters, digits and hyphens")).ToBeVisibleAsync();
        await name.FillAsync("cave-north-dps");
        await Assertions.Expect(page.GetByText("cave-north-dps is available.")).ToBeVisibleAsync();
        await Journeys.SaveScreenshotAsync(page, "wizard-1-dps-form.png");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create DPS" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-dps-ready]")).ToBeVisibleAsync();
        var idScope = (await page.Locator("[data-dps-ready] [data-id-scope]").TextContentAsync())!.Trim();
        Assert.Matches(IdScopePattern(), idScope);
        await Assertions.Expect(page.Locator("[data-step=dps]")).ToHaveAttributeAsync("data-state", "Done");
        await Assertions.Expect(page.Locator("[data-step=dps] [data-step-status]")).ToContainTextAsync("cave-north-dps");
        await Journeys.SaveScreenshotAsync(page, "wizard-1-dps-created.png");
        await audit.ScanAsync(page, "step 1 DPS (created)");

        // Reloading resumes the same step, read back from the database and the emulator.
        await page.ReloadAsync();
        await Journeys.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("[data-dps-ready]")).ToContainTextAsync(idScope);

        // Step 2: no hub yet, so create one, then link it with iothubowner.
        await Journeys.NextStepAsync(page, "hubs", SetupStepUrl("hubs"));
        await Assertions.Expect(page.Locator("[data-no-linked-hubs]")).ToBeVisibleAsync();
        await page.Locator("#hub-name").FillAsync("cave-north-hub");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create hub" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-panel=link-hub]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-panel=link-hub]")).ToContainTextAsync("iothubowner");
        await Journeys.SaveScreenshotAsync(page, "wizard-2-hubs-form.png");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Link hub" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-linked-hubs]")).ToContainTextAsync("cave-north-hub");
        await Assertions.Expect(page.Locator("[data-step=hubs]")).ToHaveAttributeAsync("data-state", "Done");
        await Journeys.SaveScreenshotAsync(page, "wizard-2-hubs-linked.png");
        await audit.ScanAsync(page, "step 2 hubs (linked)");

        // Step 3: lowest latency, saved to the DPS.
        await Journeys.NextStepAsync(page, "allocation", SetupStepUrl("allocation"));
        await Assertions.Expect(page.Locator("[data-policy=Hashed] [data-current-policy]")).ToBeVisibleAsync();
        await page.Locator("[data-policy=GeoLatency] input[type=radio]").CheckAsync();
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Save to the DPS" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-policy-saved]")).ToContainTextAsync("Lowest latency");
        await Assertions.Expect(page.Locator("[data-policy=GeoLatency] [data-current-policy]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-step=allocation] [data-step-status]")).ToHaveTextAsync("Lowest latency");
        await Journeys.SaveScreenshotAsync(page, "wizard-3-allocation.png");
        await audit.ScanAsync(page, "step 3 allocation (saved)");

        // Step 4: the ID scope and endpoints, copied with one click.
        await Journeys.NextStepAsync(page, "endpoints", SetupStepUrl("endpoints"));
        await Assertions.Expect(page.Locator("#copy-id-scope")).ToHaveValueAsync(idScope);
        await Assertions.Expect(page.Locator("#copy-device-endpoint")).Not.ToHaveValueAsync("");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Copy ID scope" }).ClickAsync();
        await Assertions.Expect(page.GetByText("ID scope copied.")).ToBeVisibleAsync();
        Assert.Equal(idScope, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await page.Locator(".mud-snackbar button").First.ClickAsync(); // dismiss, so later screenshots are clean
        await Assertions.Expect(page.Locator(".mud-snackbar")).ToHaveCountAsync(0); // gone, not mid-fade, before the scan
        await Journeys.SaveScreenshotAsync(page, "wizard-4-endpoints.png");
        await audit.ScanAsync(page, "step 4 endpoints");

        // Step 5: a root and an intermediate CA, generated in the portal; details shown, PEM downloaded.
        await Journeys.NextStepAsync(page, "ca", SetupStepUrl("ca"));
        await Assertions.Expect(page.Locator("#root-subject")).ToHaveValueAsync("Cave north Root CA");
        await page.GetByText("Also create an intermediate CA").ClickAsync();
        await Assertions.Expect(page.Locator("#intermediate-subject")).ToHaveValueAsync("Cave north Intermediate CA");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Generate CA" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-certificate=Root] [data-certificate-details]")).ToContainTextAsync("CN=Cave north Root CA");
        await Assertions.Expect(page.Locator("[data-certificate=Intermediate]")).ToContainTextAsync("Cave north Intermediate CA");
        await Assertions.Expect(page.Locator("[data-step=ca]")).ToHaveAttributeAsync("data-state", "Done");
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("[data-certificate=Root] [data-download=pem]").ClickAsync());
        Assert.Equal("cave-north-root-ca.pem", download.SuggestedFilename);
        var pem = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", pem, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", pem, StringComparison.Ordinal);
        await Journeys.SaveScreenshotAsync(page, "wizard-5-ca.png");
        await audit.ScanAsync(page, "step 5 CA (generated)");

        // Step 6: upload the root CA; it starts unverified.
        await Journeys.NextStepAsync(page, "upload", SetupStepUrl("upload"));
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Upload to DPS" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-uploaded]")).ToContainTextAsync("unverified");
        await Assertions.Expect(page.Locator("[data-step=upload]")).ToHaveAttributeAsync("data-state", "Done");
        await Journeys.SaveScreenshotAsync(page, "wizard-6-upload.png");
        await audit.ScanAsync(page, "step 6 upload (uploaded)");

        // Step 7: proof of possession in one click.
        await Journeys.NextStepAsync(page, "verify", SetupStepUrl("verify"));
        await Assertions.Expect(page.Locator("[data-unverified]")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Prove possession" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-verified]")).ToContainTextAsync("is verified on cave-north-dps");
        // The code DPS issued for the proof, as the Learn module shows it.
        await Assertions.Expect(page.Locator("[data-verified-code] code")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9A-F]{16,}$"));
        await Assertions.Expect(page.Locator("[data-step=verify] [data-step-status]")).ToHaveTextAsync("Verified");
        await Journeys.SaveScreenshotAsync(page, "wizard-7-verified.png");
        await audit.ScanAsync(page, "step 7 verify (verified)");

        // Step 8: the X.509 enrollment group; bad twin JSON is flagged as it is typed, then the group is saved and read back.
        await Journeys.NextStepAsync(page, "enrollment", SetupStepUrl("enrollment"));
        await Assertions.Expect(page.Locator("#group-id")).ToHaveValueAsync("cave-north");
        await page.Locator("#group-id").FillAsync("bad id!");
        await Assertions.Expect(page.GetByText("may contain only letters, digits, '-', '.', '_' and ':'")).ToBeVisibleAsync();
        await page.Locator("#group-id").FillAsync("cave-north-devices");
        await page.Locator("#twin-desired").FillAsync("{ \"targetHumidity\": 92, }");
        await Assertions.Expect(page.GetByText("The desired properties is not valid JSON")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-save-group]")).ToBeDisabledAsync();
        await page.Locator("#twin-desired").FillAsync("{ \"targetHumidity\": 92 }");
        await page.Locator("[data-reprovision=ReassignAndMigrate] input[type=radio]").CheckAsync();
        await page.Locator("[data-save-group]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-group-saved]")).ToContainTextAsync("cave-north-devices");
        await Assertions.Expect(page.Locator("[data-group-live]")).ToContainTextAsync("enabled");
        await Assertions.Expect(page.Locator("[data-step=enrollment]")).ToHaveAttributeAsync("data-state", "Done");
        await Journeys.SaveScreenshotAsync(page, "wizard-8-enrollment.png");
        await audit.ScanAsync(page, "step 8 enrollment group (saved)");

        // Step 9: device certificates; a bad id blocks, upper case warns, then three devices by prefix and count.
        await Journeys.NextStepAsync(page, "devices", SetupStepUrl("devices"));
        await Assertions.Expect(page.Locator("[data-issuer]")).ToContainTextAsync("Cave north Intermediate CA");
        await page.Locator("#registration-ids").FillAsync("cave-north-a\nbad id!\nCave-Upper");
        await Assertions.Expect(page.Locator("[data-id-error]")).ToContainTextAsync("bad id!");
        await Assertions.Expect(page.Locator("[data-id-warning]")).ToContainTextAsync("upper-case");
        await Assertions.Expect(page.Locator("[data-issue-devices]")).ToBeDisabledAsync();
        await page.GetByText("Prefix and count").ClickAsync();
        await Assertions.Expect(page.Locator("#id-prefix")).ToHaveValueAsync("cave-north-");
        await Assertions.Expect(page.Locator("[data-id-checks]")).ToContainTextAsync("cave-north-001, cave-north-002, cave-north-003");
        await page.Locator("[data-issue-devices]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-batch-issued]")).ToContainTextAsync("Issued 3 certificates");
        await Assertions.Expect(page.Locator("#copy-pfx-password")).Not.ToHaveValueAsync("");
        await Assertions.Expect(page.Locator("[data-device=cave-north-002]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#copy-device-settings")).ToHaveValueAsync(new Regex("\"RegistrationId\": \"cave-north-001\""));
        var keyDownload = await page.RunAndWaitForDownloadAsync(() => page.Locator("[data-device=cave-north-001] [data-download=key]").ClickAsync());
        Assert.Equal("cave-north-001.key.pem", keyDownload.SuggestedFilename);
        var zipDownload = await page.RunAndWaitForDownloadAsync(() => page.Locator("[data-download=batch-zip]").ClickAsync());
        Assert.EndsWith(".zip", zipDownload.SuggestedFilename, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("[data-step=devices]")).ToHaveAttributeAsync("data-state", "Done");
        await Journeys.SaveScreenshotAsync(page, "wizard-9-devices.png");
        await audit.ScanAsync(page, "step 9 devices (issued)");

        // Step 10: the leaf alone is refused with DPS's diagnosis; with its chain the device is assigned a hub.
        await Journeys.NextStepAsync(page, "test", SetupStepUrl("test"));
        await page.GetByText("Send only the leaf certificate").ClickAsync();
        await page.Locator("[data-register]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-registration-failed] [data-diagnosis]")).ToContainTextAsync("missingChainElements");
        await Assertions.Expect(page.Locator("[data-registration-failed] [data-what-to-do]")).ToContainTextAsync("-chain.pem");
        await Journeys.SaveScreenshotAsync(page, "wizard-10-test-refused.png");
        await page.GetByText("Send only the leaf certificate").ClickAsync();
        await page.Locator("[data-register]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-registration-assigned] [data-assigned-hub]")).ToContainTextAsync("cave-north-hub");
        await Assertions.Expect(page.Locator("[data-registration-assigned] [data-device-id]")).ToHaveTextAsync("cave-north-001");
        await Assertions.Expect(page.Locator("[data-step=test]")).ToHaveAttributeAsync("data-state", "Done");
        // Then the device goes on to its hub: connects, sends one cave reading and reads its twin, one line each.
        await Assertions.Expect(page.Locator("[data-hub-check]")).ToHaveAttributeAsync("data-hub-check", "succeeded");
        await Assertions.Expect(page.Locator("[data-hub-line=connect]")).ToHaveAttributeAsync("data-state", "succeeded");
        await Assertions.Expect(page.Locator("[data-hub-line=telemetry] [data-line-json]")).ToContainTextAsync("\"temperature\"");
        await Assertions.Expect(page.Locator("[data-hub-line=twin] [data-line-json]")).ToContainTextAsync("\"desired\"");
        await Journeys.SaveScreenshotAsync(page, "wizard-10-test-assigned.png");
        await audit.ScanAsync(page, "step 10 test (assigned)");

        // The hub's Devices page lists the device with the telemetry it sent; its details show the twin and the message.
        await page.Locator("[data-hub-check] [data-hub-devices-link]").ClickAsync();
        await page.WaitForURLAsync(new Regex($"^{Regex.Escape(server.BaseAddress.ToString())}setups/\\d+/hubs/cave-north-hub/devices$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Devices of cave-north-hub", Level = 1 })).ToBeVisibleAsync();
        var deviceRow = page.Locator("tr", new PageLocatorOptions { Has = page.Locator("[data-device-id='cave-north-001']") });
        await Assertions.Expect(deviceRow.Locator("[data-telemetry-preview]")).ToContainTextAsync("\"humidity\"", new LocatorAssertionsToContainTextOptions { Timeout = Journeys.StateTimeout });
        await Assertions.Expect(deviceRow.Locator("[data-connection]")).ToHaveAttributeAsync("data-connection", "disconnected");
        await deviceRow.Locator("[data-details='cave-north-001']").ClickAsync();
        await Assertions.Expect(page.Locator("[data-device-details='cave-north-001'] [data-message]")).ToContainTextAsync("cave=Cave north", new LocatorAssertionsToContainTextOptions { Timeout = Journeys.StateTimeout });
        await Assertions.Expect(page.Locator("[data-twin-desired]")).ToBeVisibleAsync();
        await Journeys.SaveScreenshotAsync(page, "hub-devices.png");
        await audit.ScanAsync(page, "hub devices (one device with telemetry)");

        // The list shows the setup with its DPS and ID scope.
        await page.GotoAsync(server.BaseAddress + "setups");
        await Journeys.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("[data-setup-row='Cave north']")).ToContainTextAsync(idScope);
        await Journeys.SaveScreenshotAsync(page, "wizard-setups.png");
        await audit.ScanAsync(page, "setups list (one setup)");

        audit.AssertNoBlockingViolations();
        Assert.Empty(problems);
    }

    private Regex SetupStepUrl(string slug) => new($"^{Regex.Escape(server.BaseAddress.ToString())}setups/\\d+/{slug}$");

    [GeneratedRegex("^0ne[0-9A-F]{8}$", RegexOptions.IgnoreCase)]
    private static partial Regex IdScopePattern();
}
