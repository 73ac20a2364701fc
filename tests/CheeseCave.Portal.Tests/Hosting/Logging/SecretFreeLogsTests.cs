using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Automation.Tokens;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Targets;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using CheeseCave.Provisioning.DeviceRegistration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CheeseCave.Portal.Tests.Hosting.Logging;

/// <summary>
/// A whole journey through the portal's real services with every log category at Trace: none of the secrets that
/// passed through (keys, passwords, SAS keys, connection strings, tokens) may appear in a message or a state value.
/// </summary>
public sealed class SecretFreeLogsTests
{
    private static readonly string[] TracedCategories = ["Microsoft", "Microsoft.AspNetCore", "Microsoft.EntityFrameworkCore", "System", "CheeseCave"];

    [Fact]
    public async Task No_secret_of_a_whole_journey_reaches_the_logs()
    {
        var logs = new CapturingLoggerProvider();
        await using var portal = new PortalFactory();
        await using var host = portal.WithWebHostBuilder(web => web.ConfigureLogging(logging =>
        {
            // Every category at Trace, as an operator turning everything up would; only the filters the portal's
            // own code sets (request-start lines that carry link tokens) stay, as they would for that operator.
            logging.SetMinimumLevel(LogLevel.Trace);
            foreach (var category in TracedCategories)
            {
                logging.AddFilter(category, LogLevel.Trace);
            }

            logging.AddProvider(logs);
        }));
        var secrets = new List<string>();

        // The first-run link, opened as its recipient would.
        using (var anonymous = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }))
        {
            var link = portal.SetupLinks.Only.Url;
            secrets.Add(link.AbsolutePath.Split('/').Last());
            using var page = await anonymous.GetAsync(link.PathAndQuery);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        await using (var scope = host.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<CheeseCave.Portal.Persistence.PortalUser>>();
            var user = new CheeseCave.Portal.Persistence.PortalUser { UserName = "logs-op", CreatedAt = DateTimeOffset.UtcNow };
            Assert.True((await users.CreateAsync(user, TestPasswords.Default)).Succeeded);
            Assert.True((await users.AddToRoleAsync(user, PortalRoles.Operator)).Succeeded);
        }

        var op = await PrincipalAsync(host, "logs-op");
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var wizard = new SetupSlices(scope.ServiceProvider);
            var id = await SetupSteps.VerifiedSetupAsync(wizard, op, "logcave", intermediate: true);
            var view = (await wizard.Setups.GetAsync(op, id)).Value!;

            // The SAS keys and connection strings the hub link and the DPS service calls used.
            var arm = scope.ServiceProvider.GetRequiredService<ProvisioningConnectionFactory>().CreateArmClient(op);
            foreach (var policy in (await arm.ListIotHubKeysAsync("cheesecave-rg", "logcave-hub")).Concat(await arm.ListProvisioningServiceKeysAsync("cheesecave-rg", "logcave-dps")))
            {
                secrets.AddRange(new[] { policy.PrimaryKey, policy.SecondaryKey }.OfType<string>());
            }

            secrets.Add(await arm.GetIotHubConnectionStringAsync("cheesecave-rg", "logcave-hub", "iothubowner"));
            secrets.Add(await arm.GetProvisioningServiceConnectionStringAsync("cheesecave-rg", "logcave-dps"));

            var enrolled = await wizard.Enrollment.SaveEnrollmentGroupAsync(op, id, new EnrollmentGroupForm { GroupId = "logcave-devices", PrimaryCa = view.Root!.DpsCertificateName! });
            Assert.True(enrolled.Succeeded, enrolled.Error?.Message);
            var batch = (await wizard.Devices.IssueDevicesAsync(op, id, ["logcave-001"])).Value!;
            secrets.Add(batch.PfxPassword);
            var device = batch.Devices.Single();
            var key = await wizard.DeviceDownloads.DownloadDeviceFileAsync(op, id, device.Id, DeviceFileKind.Key);
            Assert.True(key.Succeeded, key.Error?.Message);
            secrets.AddRange(PemBodies(key.Value!.Content));

            var export = await wizard.KeyExports.ExportPrivateKeyAsync(op, id, view.Root.Id);
            Assert.True(export.Succeeded, export.Error?.Message);
            secrets.Add(export.Value!.Passphrase);
            var downloadId = export.Value.DownloadPath.Split('/')[^2];
            var exported = await wizard.KeyExports.DownloadKeyExportAsync(op, id, downloadId, export.Value.FileName);
            Assert.True(exported.Succeeded, exported.Error?.Message);
            secrets.AddRange(PemBodies(exported.Value!.Content));

            var tested = await wizard.Testing.TestRegistrationAsync(op, id, device.Id, DeviceTransport.Https);
            Assert.True(tested.Value?.Assigned, tested.Error?.Message ?? tested.Value?.ErrorMessage);

            // An API token, created as the account page does and used on the API.
            var token = await scope.ServiceProvider.GetRequiredService<ApiTokenService>().CreateAsync(op, new ApiTokenRequest("logs", ["read", "issue"], 30));
            Assert.True(token.Succeeded, token.Error?.Message);
            secrets.Add(token.Value!.Secret);
            using var api = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Value.Secret);
            using var answer = await api.GetAsync("/api/v1/approvals/999999");
            Assert.NotEqual(HttpStatusCode.Unauthorized, answer.StatusCode);
        }

        Assert.All(secrets, s => Assert.True(s.Length >= 8, "every secret is long enough that a match is no accident"));
        Assert.NotEmpty(logs.Texts);
        var texts = logs.Texts.ToList();
        foreach (var secret in secrets.Distinct(StringComparer.Ordinal))
        {
            var leak = texts.FirstOrDefault(t => t.Contains(secret, StringComparison.Ordinal));
            Assert.True(leak is null, $"a secret ({secret[..4]}…) reached the logs: {leak?[..Math.Min(leak.Length, 300)]}");
        }
    }

    /// <summary>Each base64 line of the PEM bodies (a leak of any one line of a key is a leak).</summary>
    private static IEnumerable<string> PemBodies(byte[] pem) =>
        Encoding.ASCII.GetString(pem).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith("-----", StringComparison.Ordinal) && !line.Contains(':', StringComparison.Ordinal) && line.Length >= 16);

    private static async Task<System.Security.Claims.ClaimsPrincipal> PrincipalAsync(WebApplicationFactory<Program> host, string name)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<CheeseCave.Portal.Persistence.PortalUser>>();
        var signIn = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.SignInManager<CheeseCave.Portal.Persistence.PortalUser>>();
        return await signIn.CreateUserPrincipalAsync((await users.FindByNameAsync(name))!);
    }
}
