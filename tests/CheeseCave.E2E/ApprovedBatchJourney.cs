using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// A device batch issued on approval: its PFX password waits for the requester alone, once, on step 9 where the
/// devices are, whole and with a copy button. The setup is prepared through the handlers (as the pages call them);
/// the browser does what a person does on step 9.
/// </summary>
public sealed class ApprovedBatchJourney
{
    private const string OperatorName = "petra";
    private const string OperatorPassword = "a wheel of gruyere, brushed";

    [Fact]
    public async Task TheRequesterSeesTheApprovedBatchsPfxPasswordOnceOnTheDevicesStep()
    {
        var server = new PortalServer { Approvals = true };
        await ((IAsyncLifetime)server).InitializeAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await Browser.LaunchChromiumAsync(playwright);
            await server.AdministratorStorageStateAsync(browser); // creates ada, the approver
            await server.CreateUserAsync(OperatorName, OperatorPassword, PortalRoles.Operator);
            var op = await server.PrincipalForAsync(OperatorName);
            var approver = await server.PrincipalForAsync(PortalServer.AdministratorName);

            int setupId;
            await using (var scope = server.Services.CreateAsyncScope())
            {
                var slices = new SetupSlices(scope.ServiceProvider);
                var approvals = scope.ServiceProvider.GetRequiredService<ApprovalService>();
                setupId = (await slices.Setups.CreateAsync(op, "Cave approved batch")).Value!.Id;
                var ca = await slices.CaGeneration.GenerateCaAsync(op, setupId, "Approved Batch Root", null, ProfilePreset.Recommended);
                Assert.True((await approvals.ApproveAsync(approver, ca.Pending!.RequestId)).Succeeded);
                var batch = await slices.Devices.IssueDevicesAsync(op, setupId, ["approved-001", "approved-002"]);
                var approved = await approvals.ApproveAsync(approver, batch.Pending!.RequestId);
                Assert.True(approved.Succeeded, approved.Error?.Message);
                Assert.Equal(ApprovalStatus.Applied, approved.Value!.Status);
                Assert.False(approved.Value.SecretWaiting); // the approver never sees it
            }

            await using var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions
            {
                ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
                StorageStatePath = await server.SignInStorageStateAsync(browser, OperatorName, OperatorPassword),
            });
            var page = await context.NewPageAsync();
            var problems = Journeys.CollectProblems(page);
            var a11y = new AccessibilityAudit();
            await page.GotoAsync($"{server.BaseAddress}setups/{setupId}/devices");
            await Journeys.WaitForCircuitAsync(page);

            var panel = page.Locator("[data-approved-batch]");
            await Assertions.Expect(panel).ToContainTextAsync("was approved and applied");
            await Assertions.Expect(page.Locator("[data-device=approved-001]")).ToBeVisibleAsync();
            await page.Locator("[data-reveal-pfx-password]").ClickAsync();
            var field = page.Locator("[data-pfx-password] textarea, [data-pfx-password] input").First;
            await Assertions.Expect(field).Not.ToHaveValueAsync("");
            var password = await field.InputValueAsync();
            Assert.Equal(43, password.Length); // the whole generated password, nothing cut
            Assert.True(await field.EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth"), "the password is not cut off in its field");
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Copy PFX password" })).ToBeVisibleAsync();
            await Journeys.SaveScreenshotAsync(page, "approved-batch-password.png");
            await a11y.ScanAsync(page, "step 9 with an approved batch's password");

            // Once: after a reload the password is gone and no longer offered.
            await page.ReloadAsync();
            await Journeys.WaitForCircuitAsync(page);
            await Assertions.Expect(page.Locator("[data-device=approved-001]")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-reveal-pfx-password]")).ToHaveCountAsync(0);
            await Assertions.Expect(page.Locator("[data-pfx-password]")).ToHaveCountAsync(0);

            Assert.Empty(problems);
            a11y.AssertNoBlockingViolations();
        }
        finally
        {
            await ((IAsyncLifetime)server).DisposeAsync();
        }
    }
}
