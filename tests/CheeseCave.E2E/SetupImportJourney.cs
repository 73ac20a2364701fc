using System.Diagnostics;
using System.Text.RegularExpressions;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups;
using CheeseCave.Portal.Setups.ProofOfPossession;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// An administrator brings a CA made with openssl, imports it without its key through the browser's real form POST,
/// uploads it and proves possession by hand with the commands the page shows.
/// </summary>
public sealed class SetupImportJourney(PortalServer server) : IClassFixture<PortalServer>
{
    [Fact]
    public async Task AdministratorImportsAnExternalCaAndProvesPossessionByHand()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchChromiumAsync(playwright);
        await using var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
            StorageStatePath = await server.AdministratorStorageStateAsync(browser),
        });
        var page = await context.NewPageAsync();
        var problems = Journeys.CollectProblems(page);
        var folder = Directory.CreateTempSubdirectory("cheesecave-e2e-ca-").FullName;
        try
        {
            // The CA, made outside the portal; its key stays in this folder.
            Shell(folder, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "outside.key.pem", "-out", "outside.pem",
                "-days", "365", "-subj", "/CN=Outside Root", "-addext", "keyUsage=critical,keyCertSign,cRLSign");

            // Steps 1-4 are covered by the other journey: a setup with a DPS, made through the service.
            int setupId;
            var ada = await server.PrincipalForAsync(PortalServer.AdministratorName);
            await using (var scope = server.Services.CreateAsyncScope())
            {
                var wizard = new SetupSlices(scope.ServiceProvider);
                wizard.PollInterval = TimeSpan.FromMilliseconds(100);
                setupId = (await wizard.Setups.CreateAsync(ada, "Cave outside")).Value!.Id;
                Assert.True((await wizard.Dps.CreateDpsAsync(ada, setupId, "cheesecave-rg", "cave-outside-dps", "eastus")).Succeeded);
            }

            // Step 5: import the certificate only.
            await page.GotoAsync(new Uri(server.BaseAddress, $"setups/{setupId}/ca").ToString());
            await Journeys.WaitForCircuitAsync(page);
            await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Import an existing CA" }).ClickAsync();
            await page.Locator("#import-ca-certificate").SetInputFilesAsync(Path.Combine(folder, "outside.pem"));
            await Journeys.SaveScreenshotAsync(page, "import-5-form.png");
            await page.Locator("[data-import-submit]").ClickAsync();
            await page.WaitForURLAsync(new Regex($"setups/{setupId}/ca\\?import=[0-9a-f]+$"));
            await Journeys.WaitForCircuitAsync(page);
            await Assertions.Expect(page.Locator("[data-import-succeeded]")).ToContainTextAsync("without a private key");
            await Assertions.Expect(page.Locator("[data-certificate=Root] [data-certificate-details]")).ToContainTextAsync("CN=Outside Root");
            await Assertions.Expect(page.Locator("[data-no-key]")).ToBeVisibleAsync();
            await Journeys.SaveScreenshotAsync(page, "import-5-imported.png");

            // Step 6: upload, leaving "verified on upload" off.
            await Journeys.NextStepAsync(page, "upload", new Regex($"setups/{setupId}/upload$"));
            await Assertions.Expect(page.Locator("[data-verified-on-upload] input[type=checkbox]")).Not.ToBeCheckedAsync();
            await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Upload to DPS" }).ClickAsync();
            await Assertions.Expect(page.Locator("[data-uploaded]")).ToContainTextAsync("unverified");

            // Step 7 by hand: code, the page's commands run as given, the certificate uploaded through the browser.
            await Journeys.NextStepAsync(page, "verify", new Regex($"setups/{setupId}/verify$"));
            await page.Locator("[data-get-code]").ClickAsync();
            var codeField = page.Locator("#copy-verification-code");
            await Assertions.Expect(codeField).ToHaveValueAsync(new Regex("^[0-9A-Fa-f]{16,}$")); // the code arrives from the DPS
            var code = await codeField.InputValueAsync();
            Assert.Matches("^[0-9A-Fa-f]{16,}$", code);
            var commands = await page.Locator("#copy-openssl-commands").InputValueAsync();
            await Journeys.SaveScreenshotAsync(page, "import-7-code.png");

            // Reloading (a closed browser) shows the same code.
            await page.ReloadAsync();
            await Journeys.WaitForCircuitAsync(page);
            await Assertions.Expect(codeField).Not.ToHaveValueAsync(""); // read back from the DPS after the reload
            Assert.Equal(code, await codeField.InputValueAsync());

            // The commands name the CA file as step 5's PEM download; the user's copy is the same certificate.
            var caFile = Regex.Match(commands, "CA_CERT=(\\S+)").Groups[1].Value;
            File.Copy(Path.Combine(folder, "outside.pem"), Path.Combine(folder, caFile));
            File.Copy(Path.Combine(folder, "outside.key.pem"), Path.Combine(folder, "ca.key.pem"));
            Shell(folder, "bash", "-e", "-c", commands);
            await page.Locator("#verification-file").SetInputFilesAsync(Path.Combine(folder, VerificationCommands.OutputFile));
            await Assertions.Expect(page.Locator("[data-chosen-file]")).ToContainTextAsync(VerificationCommands.OutputFile);
            await page.Locator("[data-submit-verification]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-verified]")).ToContainTextAsync("is verified on cave-outside-dps");
            await Assertions.Expect(page.Locator("[data-download=verification-pem]")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-step=verify] [data-step-status]")).ToHaveTextAsync("Verified");
            await Journeys.SaveScreenshotAsync(page, "import-7-verified.png");

            Assert.Empty(problems);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Shell(string folder, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = folder, RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), $"{program} timed out");
        Assert.True(process.ExitCode == 0, $"{program} failed: {error.Result}");
    }
}
