using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// Four eyes in two browsers: an Operator asks for a CA, the administrator (an Approver) sees the request appear,
/// approves it, and the Operator's wizard shows the new CA; neither page is reloaded.
/// </summary>
public sealed class ApprovalJourney
{
    private const string OperatorName = "oskar";
    private const string OperatorPassword = "a wheel of comte, turned weekly";

    [Fact]
    public async Task AnOperatorRequestsACaAndAnApproverApprovesItEachSeeingTheOtherLive()
    {
        var server = new PortalServer { Approvals = true };
        await ((IAsyncLifetime)server).InitializeAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await Browser.LaunchChromiumAsync(playwright);
            var viewport = new ViewportSize { Width = 1366, Height = 900 };

            // The approver: the first administrator, on the Approvals page, with nothing waiting.
            await using var adminContext = await Browser.NewContextAsync(browser, new BrowserNewContextOptions { ViewportSize = viewport, StorageStatePath = await server.AdministratorStorageStateAsync(browser) });
            var admin = await adminContext.NewPageAsync();
            var adminProblems = Journeys.CollectProblems(admin);
            var a11y = new AccessibilityAudit();
            await admin.GotoAsync(server.BaseAddress.ToString());
            await Journeys.WaitForCircuitAsync(admin);
            await admin.Locator("[data-nav=approvals]").ClickAsync();
            await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Approvals", Level = 1 })).ToBeVisibleAsync();
            await Assertions.Expect(admin.Locator("[data-no-approvals]")).ToBeVisibleAsync();
            await Assertions.Expect(admin.Locator("[data-approvals-badge]")).ToHaveCountAsync(0);

            // The requester: an Operator in a second browser context, signed in through the form.
            await server.CreateUserAsync(OperatorName, OperatorPassword, PortalRoles.Operator);
            await using var operatorContext = await Browser.NewContextAsync(browser, new BrowserNewContextOptions { ViewportSize = viewport });
            var op = await operatorContext.NewPageAsync();
            var operatorProblems = Journeys.CollectProblems(op);
            await op.GotoAsync(server.BaseAddress + "account/login");
            await op.GetByLabel("User name").FillAsync(OperatorName);
            await op.GetByLabel("Password").FillAsync(OperatorPassword);
            await op.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync();
            await op.WaitForURLAsync(server.BaseAddress.ToString());
            await Journeys.WaitForCircuitAsync(op);
            await Assertions.Expect(op.Locator($"[data-user='{OperatorName}']")).ToContainTextAsync("Operator");

            await op.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Setup wizard" }).ClickAsync();
            // The setups page is the one on screen and has loaded its list (nothing re-renders the form under the typing).
            await Assertions.Expect(op.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "DPS setups", Level = 1 })).ToBeVisibleAsync();
            await Assertions.Expect(op.Locator("[data-no-setups]")).ToBeVisibleAsync();
            await op.Locator("#setup-name").FillAsync("Cave four eyes");
            await Assertions.Expect(op.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create and start" })).ToBeEnabledAsync();
            await op.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create and start" }).ClickAsync();
            await op.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/setups/\\d+/dps$"));
            await op.Locator("[data-step=ca]").ClickAsync();
            await Assertions.Expect(op.Locator("#root-subject")).ToHaveValueAsync("Cave four eyes Root CA");

            // The request: nothing is generated, the step says it waits and links to the request.
            await op.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Generate CA" }).ClickAsync();
            var banner = op.Locator("[data-approval-banner]");
            await Assertions.Expect(banner).ToHaveAttributeAsync("data-approval-banner", "Pending");
            await Assertions.Expect(banner).ToContainTextAsync("Waiting for approval");
            await Assertions.Expect(op.Locator("[data-certificate=Root]")).ToHaveCountAsync(0);
            await Assertions.Expect(op.Locator("[data-step=ca]")).ToHaveAttributeAsync("data-state", "Ready");
            await Assertions.Expect(op.Locator("[data-approvals-badge]")).ToHaveTextAsync("1");
            var requestHref = await op.Locator("[data-approval-link]").GetAttributeAsync("href");
            Assert.Matches("^approvals/\\d+$", requestHref);
            await Journeys.SaveScreenshotAsync(op, "approval-1-operator-waiting.png");
            await a11y.ScanAsync(op, "CA step waiting for approval");

            // The approver's list and badge show it without a reload.
            var row = admin.Locator("[data-approval-row]");
            await Assertions.Expect(row).ToContainTextAsync("Create root CA \"Cave four eyes Root CA\"");
            await Assertions.Expect(row).ToContainTextAsync(OperatorName);
            await Assertions.Expect(admin.Locator("[data-approvals-badge]")).ToHaveTextAsync("1");
            await Journeys.SaveScreenshotAsync(admin, "approval-2-approver-list.png");
            await a11y.ScanAsync(admin, "approvals list");

            // The request in plain terms, then approved with a comment.
            await admin.Locator("[data-open-approval]").ClickAsync();
            await admin.WaitForURLAsync(server.BaseAddress + requestHref!);
            await Assertions.Expect(admin.Locator("[data-fact='Root CA subject']")).ToContainTextAsync("CN=Cave four eyes Root CA");
            await Assertions.Expect(admin.Locator("[data-fact='Key type']")).ToContainTextAsync("ECDSA P-256");
            await Assertions.Expect(admin.Locator("[data-requested-by]")).ToHaveTextAsync(OperatorName);
            await admin.Locator("#approval-comment").FillAsync("Name and preset as agreed.");
            await Journeys.SaveScreenshotAsync(admin, "approval-3-approver-review.png");
            await a11y.ScanAsync(admin, "approval request (review)");
            await admin.Locator("[data-approve]").ClickAsync();
            await Assertions.Expect(admin.Locator("[data-applied]")).ToContainTextAsync("Created the root CA");
            await Assertions.Expect(admin.Locator("[data-decision=ada]")).ToContainTextAsync("Name and preset as agreed.");
            await Assertions.Expect(admin.Locator("[data-approvals-badge]")).ToHaveCountAsync(0);
            await Journeys.SaveScreenshotAsync(admin, "approval-4-approver-applied.png");
            await a11y.ScanAsync(admin, "approval request (applied)");

            // The operator's step changed by itself: applied, with the CA shown and the step done.
            await Assertions.Expect(banner).ToHaveAttributeAsync("data-approval-banner", "Applied");
            await Assertions.Expect(op.Locator("[data-certificate=Root] [data-certificate-details]")).ToContainTextAsync("CN=Cave four eyes Root CA");
            await Assertions.Expect(op.Locator("[data-step=ca]")).ToHaveAttributeAsync("data-state", "Done");
            await Assertions.Expect(op.Locator("[data-approvals-badge]")).ToHaveCountAsync(0);
            await Journeys.SaveScreenshotAsync(op, "approval-5-operator-applied.png");

            // The operator may look at the request but not decide it.
            await op.Locator("[data-approval-link]").ClickAsync();
            await Assertions.Expect(op.Locator("[data-applied]")).ToBeVisibleAsync();
            await Assertions.Expect(op.Locator("[data-approve]")).ToHaveCountAsync(0);

            // One click, one correlation id: the approval, the apply and the CA it generated share the approver's click's
            // id; the operator's request (another click, another browser) has its own.
            await using (var scope = server.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
                string CorrelationOf(string action) => db.AuditEntries.Where(a => a.Action == action && a.Outcome == AuditOutcomes.Succeeded).OrderBy(a => a.Id).Select(a => a.CorrelationId).First()!;
                var requested = CorrelationOf(CheeseCave.Portal.Approvals.ApprovalAuditActions.Requested);
                var approved = CorrelationOf(CheeseCave.Portal.Approvals.ApprovalAuditActions.Approved);
                Assert.Equal(approved, CorrelationOf(CheeseCave.Portal.Approvals.ApprovalAuditActions.Applied));
                Assert.Equal(approved, CorrelationOf(AuditActions.SetupCaGenerated));
                Assert.NotEqual(requested, approved);
            }

            // The audit trail page lists them.
            await admin.Locator("[data-nav=audit]").ClickAsync();
            await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Audit trail", Level = 1 })).ToBeVisibleAsync();
            await Assertions.Expect(admin.GetByText("approval.apply").First).ToBeVisibleAsync();
            await Journeys.SaveScreenshotAsync(admin, "approval-6-audit-trail.png");
            await a11y.ScanAsync(admin, "audit trail");

            Assert.Empty(adminProblems);
            Assert.Empty(operatorProblems);
            a11y.AssertNoBlockingViolations();
        }
        finally
        {
            await ((IAsyncLifetime)server).DisposeAsync();
        }
    }
}
