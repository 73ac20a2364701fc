using CheeseCave.Pki;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// A stolen device in the browser: a provisioned setup (prepared through the handlers, as the wizard's pages call
/// them, with the device registered once) → the device's certificate page → Revoke with a reason → revoked, and DPS
/// shows the blocking enrollment and the disabled hub identity → Restore → Renew with a new key (the PFX password
/// shown once, the new key downloadable) → the CA page's plain warning of what revoking the CA would shut out.
/// </summary>
public sealed class RevocationJourney
{
    [Fact]
    public async Task AnAdministratorRevokesRestoresAndRenewsADeviceAndReadsTheCaRevokeWarning()
    {
        var server = new PortalServer();
        await ((IAsyncLifetime)server).InitializeAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await Browser.LaunchChromiumAsync(playwright);
            var state = await server.AdministratorStorageStateAsync(browser);
            var admin = await server.PrincipalForAsync(PortalServer.AdministratorName);
            int setupId, rootId, deviceId;
            await using (var scope = server.Services.CreateAsyncScope())
            {
                var slices = new SetupSlices(scope.ServiceProvider) { PollInterval = TimeSpan.FromMilliseconds(50) };
                setupId = (await slices.Setups.CreateAsync(admin, "Cave revocation")).Value!.Id;
                Assert.True((await slices.Dps.CreateDpsAsync(admin, setupId, "cheesecave-rg", "revocation-dps", "eastus")).Succeeded);
                Assert.True((await slices.Hubs.CreateHubAsync(admin, setupId, "revocation-hub", "eastus")).Succeeded);
                Assert.True((await slices.Hubs.LinkHubAsync(admin, setupId, "revocation-hub", "iothubowner", 1, true)).Succeeded);
                Assert.True((await slices.CaGeneration.GenerateCaAsync(admin, setupId, "Cave Root 2026", "Cave Intermediate 2026", ProfilePreset.Recommended)).Succeeded);
                Assert.True((await slices.Upload.UploadCaAsync(admin, setupId)).Succeeded);
                Assert.True((await slices.OneClickProof.VerifyCaAsync(admin, setupId)).Succeeded);
                var root = (await slices.Setups.GetAsync(admin, setupId)).Value!.Root!;
                rootId = root.Id;
                Assert.True((await slices.Enrollment.SaveEnrollmentGroupAsync(admin, setupId, new EnrollmentGroupForm { GroupId = "cave-devices", PrimaryCa = root.DpsCertificateName! })).Succeeded);
                var devices = (await slices.Devices.IssueDevicesAsync(admin, setupId, ["cave-001", "cave-002"])).Value!.Devices;
                deviceId = devices[0].Id;
                Assert.True((await slices.Testing.TestRegistrationAsync(admin, setupId, deviceId, DeviceTransport.Https)).Value!.Assigned);
            }

            await using var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions
            {
                ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
                StorageStatePath = state,
            });
            var page = await context.NewPageAsync();
            var problems = Journeys.CollectProblems(page);
            var a11y = new AccessibilityAudit();

            // The device's page: facts, the renewal history, and where DPS has it now (read live).
            await page.GotoAsync($"{server.BaseAddress}certificates/devices/{deviceId}");
            await Journeys.WaitForCircuitAsync(page);
            await Assertions.Expect(page.Locator("[data-dps-status]")).ToContainTextAsync("assigned (initial assignment)", new() { Timeout = Journeys.StateTimeout });
            await Assertions.Expect(page.Locator("[data-hub-status]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^enabled"));
            await Assertions.Expect(page.Locator("[data-device-status]")).ToHaveAttributeAsync("data-device-status", "Active");
            await Journeys.SaveScreenshotAsync(page, "revocation-1-device.png");
            await a11y.ScanAsync(page, "device certificate page");

            // Revoke: the dialog says what happens and asks for the reason.
            await page.Locator("[data-revoke]").ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog);
            await Assertions.Expect(dialog).ToContainTextAsync("Other devices of the group keep working");
            await dialog.GetByLabel("Reason (kept in the records)").FillAsync("stolen from the cheese van");
            await Journeys.SaveScreenshotAsync(page, "revocation-2-revoke-dialog.png");
            await a11y.ScanAsync(page, "revoke dialog");
            await dialog.Locator("[data-confirm]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-device-status]")).ToHaveAttributeAsync("data-device-status", "Revoked", new() { Timeout = Journeys.StateTimeout });
            await Assertions.Expect(page.Locator("[data-done]")).ToContainTextAsync("is revoked: DPS refuses it");
            await Assertions.Expect(page.Locator("[data-revoked]")).ToContainTextAsync("stolen from the cheese van");
            await Assertions.Expect(page.Locator("[data-individual-enrollment]")).ToHaveTextAsync("individual enrollment, disabled", new() { Timeout = Journeys.StateTimeout });
            await Assertions.Expect(page.Locator("[data-hub-status]")).ToContainTextAsync("disabled (revoked: stolen from the cheese van)");
            await Journeys.SaveScreenshotAsync(page, "revocation-3-revoked.png");
            await a11y.ScanAsync(page, "revoked device");

            // Restore.
            await page.Locator("[data-restore]").ClickAsync();
            await dialog.Locator("[data-confirm]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-device-status]")).ToHaveAttributeAsync("data-device-status", "Active", new() { Timeout = Journeys.StateTimeout });
            await Assertions.Expect(page.Locator("[data-done]")).ToContainTextAsync("is restored: DPS accepts it again");
            await Assertions.Expect(page.Locator("[data-individual-enrollment]")).ToContainTextAsync("none", new() { Timeout = Journeys.StateTimeout });
            await Assertions.Expect(page.Locator("[data-hub-status]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^enabled"));

            // Renew with a new key made by the portal: the PFX password once, and the new certificate's page to download from.
            await page.Locator("[data-renew-key]").ClickAsync();
            await Assertions.Expect(dialog).ToContainTextAsync("marked superseded");
            await dialog.Locator("[data-confirm]").ClickAsync();
            var password = page.Locator("[data-pfx-password] textarea, [data-pfx-password] input").First;
            await Assertions.Expect(password).ToHaveValueAsync(new System.Text.RegularExpressions.Regex(@"^\S{20,}$"), new() { Timeout = Journeys.StateTimeout });
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Copy PFX password" })).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-device-status]")).ToHaveAttributeAsync("data-device-status", "Superseded");
            await Journeys.SaveScreenshotAsync(page, "revocation-4-renewed.png");
            await a11y.ScanAsync(page, "renewed device (password shown once)");

            await page.Locator("[data-new-certificate]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-device-status]")).ToHaveAttributeAsync("data-device-status", "Active", new() { Timeout = Journeys.StateTimeout });
            await Assertions.Expect(page.Locator("[data-history-row]")).ToHaveCountAsync(2);
            var pfx = page.Locator("[data-download-pfx]");
            await Assertions.Expect(pfx).ToBeVisibleAsync();
            var download = await context.APIRequest.GetAsync(new Uri(server.BaseAddress, await pfx.GetAttributeAsync("href") ?? "").ToString());
            Assert.Equal(200, download.Status);
            Assert.True((await download.BodyAsync()).Length > 500, "the PFX download is a real file");
            await Journeys.SaveScreenshotAsync(page, "revocation-5-new-certificate.png");

            // The CA's page: what revoking it would shut out, in plain words, before anything is done.
            await page.GotoAsync($"{server.BaseAddress}certificates/cas/{rootId}");
            await Journeys.WaitForCircuitAsync(page);
            var warning = page.Locator("[data-ca-warning]");
            await Assertions.Expect(warning).ToContainTextAsync("cave-devices will be disabled", new() { Timeout = Journeys.StateTimeout });
            await page.Locator("[data-revoke-ca]").ClickAsync();
            await Assertions.Expect(dialog).ToContainTextAsync("cave-devices will be disabled");
            await Journeys.SaveScreenshotAsync(page, "revocation-6-ca-warning.png");
            await a11y.ScanAsync(page, "CA revoke warning");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
            await Assertions.Expect(dialog).ToHaveCountAsync(0);
            await Assertions.Expect(page.Locator("[data-revoke-ca]")).ToBeVisibleAsync(); // nothing was revoked

            Assert.Empty(problems);
            a11y.AssertNoBlockingViolations();
        }
        finally
        {
            await ((IAsyncLifetime)server).DisposeAsync();
        }
    }
}
