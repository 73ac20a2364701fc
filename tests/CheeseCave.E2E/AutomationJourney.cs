using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// A factory line set up by hand: an Operator creates an API token on /account (shown once), asks for an issuance
/// grant on /grants, the administrator (another user, an Approver) approves it in their own browser, the line signs
/// device CSRs with plain HTTP calls carrying the token, and the grant's page shows the count.
/// </summary>
public sealed class AutomationJourney
{
    private const string OperatorName = "lina";
    private const string OperatorPassword = "brine-washed rind, day 40";

    [Fact]
    public async Task AnOperatorMakesATokenAndAGrantAnApproverApprovesItAndTheLineSignsCsrs()
    {
        var server = new PortalServer { Approvals = true };
        await ((IAsyncLifetime)server).InitializeAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await Browser.LaunchChromiumAsync(playwright);
            var viewport = new ViewportSize { Width = 1366, Height = 900 };
            var adminState = await server.AdministratorStorageStateAsync(browser);

            // A setup with a CA the portal holds (the CA itself went through four eyes too).
            await server.CreateUserAsync(OperatorName, OperatorPassword, PortalRoles.Operator);
            var op = await server.PrincipalForAsync(OperatorName);
            var ada = await server.PrincipalForAsync(PortalServer.AdministratorName);
            await using (var scope = server.Services.CreateAsyncScope())
            {
                var wizard = new SetupSlices(scope.ServiceProvider);
                var setupId = (await wizard.Setups.CreateAsync(op, "Line cave")).Value!.Id;
                var ca = await wizard.CaGeneration.GenerateCaAsync(op, setupId, "Line Root", "Line Intermediate", ProfilePreset.Recommended);
                Assert.Equal(ApprovalStatus.Applied, (await scope.ServiceProvider.GetRequiredService<ApprovalService>().ApproveAsync(ada, ca.Pending!.RequestId)).Value?.Status);
            }

            // The Operator makes a token with the issue scope on their account page; it is shown once.
            await using var operatorContext = await Browser.NewContextAsync(browser, new BrowserNewContextOptions { ViewportSize = viewport, StorageStatePath = await server.SignInStorageStateAsync(browser, OperatorName, OperatorPassword) });
            var page = await operatorContext.NewPageAsync();
            var problems = Journeys.CollectProblems(page);
            var a11y = new AccessibilityAudit();
            await page.GotoAsync(server.BaseAddress + "account");
            await Journeys.WaitForCircuitAsync(page);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "API tokens", Level = 1 })).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-no-tokens]")).ToBeVisibleAsync();
            await page.Locator("#token-name").FillAsync("Line 3 flasher");
            await page.GetByLabel("issue").CheckAsync();
            await page.Locator("[data-create-token]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-new-token]")).ToBeVisibleAsync();
            var token = await page.Locator("#copy-new-token").InputValueAsync();
            Assert.StartsWith("ccp_", token, StringComparison.Ordinal);
            await Assertions.Expect(page.Locator("[data-token-row]")).ToHaveCountAsync(1);
            await Journeys.SaveScreenshotAsync(page, "automation-1-token-created.png");
            await a11y.ScanAsync(page, "account (API tokens)");

            // The Operator asks for a grant: it waits for approval.
            await page.Locator("[data-nav=grants]").ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Issuance grants", Level = 1 })).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-no-grants]")).ToBeVisibleAsync();
            await page.Locator("#grant-name").FillAsync("Line 3, December");
            await page.Locator("#grant-pattern").FillAsync("line3-*");
            await page.Locator("#grant-count").FillAsync("10");
            await page.Locator("[data-request-grant]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-grant-pending]")).ToBeVisibleAsync();
            var requestHref = await page.Locator("[data-grant-pending] a").GetAttributeAsync("href");

            // The administrator approves it in their own browser.
            await using var adminContext = await Browser.NewContextAsync(browser, new BrowserNewContextOptions { ViewportSize = viewport, StorageStatePath = adminState });
            var admin = await adminContext.NewPageAsync();
            await admin.GotoAsync(server.BaseAddress + requestHref!.TrimStart('/'));
            await Journeys.WaitForCircuitAsync(admin);
            await admin.Locator("[data-approve]").ClickAsync();
            await Assertions.Expect(admin.Locator("[data-applied]")).ToContainTextAsync("is active until");
            await Journeys.SaveScreenshotAsync(admin, "automation-2-grant-approved.png");

            // The line: plain HTTP calls with the token, as curl would make them.
            using var line = new HttpClient { BaseAddress = server.BaseAddress };
            line.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var grants = await line.GetFromJsonAsync<JsonElement>(new Uri("api/v1/grants", UriKind.Relative));
            var grantId = grants[0].GetProperty("id").GetInt32();
            Assert.Equal("Active", grants[0].GetProperty("status").GetString());
            for (var i = 1; i <= 3; i++)
            {
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var csr = new CertificateRequest($"CN=line3-{i:0000}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"api/v1/grants/{grantId}/certificates", UriKind.Relative))
                {
                    Content = new StringContent(csr, Encoding.ASCII, "application/x-pem-file"),
                };
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-pem-file"));
                using var response = await line.SendAsync(request);
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                using var leaf = X509Certificate2.CreateFromPem(await response.Content.ReadAsStringAsync());
                Assert.Equal($"CN=line3-{i:0000}", leaf.Subject);
            }

            using (var outside = await line.PostAsync(new Uri($"api/v1/grants/{grantId}/certificates", UriKind.Relative), new StringContent(ApiCsr("line4-0001"), Encoding.ASCII, "application/x-pem-file")))
            {
                Assert.Equal(HttpStatusCode.BadRequest, outside.StatusCode);
            }

            // The grant's page shows the count and the certificates.
            await page.GotoAsync(server.BaseAddress + $"grants/{grantId}");
            await Journeys.WaitForCircuitAsync(page);
            await Assertions.Expect(page.Locator("[data-grant-count]")).ToContainTextAsync("3 of 10");
            await Assertions.Expect(page.Locator("[data-grant-device]")).ToHaveCountAsync(3);
            await Journeys.SaveScreenshotAsync(page, "automation-3-grant-usage.png");
            await a11y.ScanAsync(page, "grant");
            await page.Locator("[data-nav=grants]").ClickAsync();
            await Assertions.Expect(page.Locator($"[data-grant-usage='{grantId}']")).ToContainTextAsync("3 of 10");
            await Journeys.SaveScreenshotAsync(page, "automation-4-grants.png");
            await a11y.ScanAsync(page, "issuance grants");

            // The API reference renders for a signed-in user (its inline script allowed by the page's CSP nonce).
            await page.GotoAsync(server.BaseAddress + "scalar");
            await Assertions.Expect(page.GetByText("CheeseCave Portal automation API").First).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = Journeys.StateTimeout });
            await Journeys.SaveScreenshotAsync(page, "automation-5-api-reference.png");
            a11y.AssertNoBlockingViolations();
            Assert.Empty(problems);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static string ApiCsr(string cn)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
    }
}
