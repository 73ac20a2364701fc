using System.Net;
using System.Security.Claims;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Accounts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Playwright;

namespace CheeseCave.E2E;

/// <summary>
/// The portal, in-process, on a real loopback socket with a dynamic port, shared by a test class. The first-run
/// setup link is captured instead of logged, and the first administrator is created through it in a real browser.
/// </summary>
public sealed class PortalServer : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdministratorName = "ada";
    public const string AdministratorPassword = "ripened in the cave 7";

    private readonly SetupLinkSink _setupLinks = new();
    private readonly SemaphoreSlim _setupOnce = new(1, 1);
    private string? _administratorState;

    /// <summary>Four eyes (CheeseCave:Approvals): off unless a journey is about approvals.</summary>
    public bool Approvals { get; init; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>A fresh temporary folder, or an earlier server's folder to restart the portal on the same data.</summary>
    public string DataDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "cheesecave-e2e-" + Guid.NewGuid().ToString("N"));

    /// <summary>Leave the data folder in place when stopped, so a new server can start on it (restart journeys).</summary>
    public bool KeepData { get; init; }

    /// <summary>The one-time link the portal printed at first start, pointing at this server.</summary>
    public Uri SetupLink => new(BaseAddress, Assert.Single(_setupLinks.Links).Url.PathAndQuery);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("CheeseCave:DataDirectory", DataDirectory);
        builder.UseSetting("CheeseCave:Emulator:HttpsPort", "0");
        builder.UseSetting("CheeseCave:Emulator:MqttPort", "0");
        builder.UseSetting("CheeseCave:Approvals:Enabled", Approvals ? "true" : "false");
        builder.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton<ISetupTokenSink>(_setupLinks)));
    }

    public Task InitializeAsync()
    {
        UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        StartServer();

        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return Task.CompletedTask;
    }

    /// <summary>
    /// Signs in as the administrator, creating it on first use the way a person would: open the setup link,
    /// fill the form, land on the overview. Returns the saved browser storage state (the session cookie).
    /// </summary>
    public async Task<string> AdministratorStorageStateAsync(IBrowser browser)
    {
        ArgumentNullException.ThrowIfNull(browser);
        await _setupOnce.WaitAsync();
        try
        {
            if (_administratorState is not null)
            {
                return _administratorState;
            }

            if (_setupLinks.Links.Count == 0)
            {
                // No setup link: the data folder already has the administrator (a restarted portal), so sign in.
                return _administratorState = await SignInStorageStateAsync(browser, AdministratorName, AdministratorPassword);
            }

            await using var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 900 } });
            var page = await context.NewPageAsync();
            var problems = Journeys.CollectProblems(page);

            var response = await page.GotoAsync(SetupLink.ToString());
            Assert.Equal(200, response?.Status);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Create the first administrator" })).ToBeVisibleAsync();
            await page.GetByLabel("User name").FillAsync(AdministratorName);
            await page.GetByLabel("Password", new PageGetByLabelOptions { Exact = true }).FillAsync(AdministratorPassword);
            await page.GetByLabel("Confirm password").FillAsync(AdministratorPassword);
            await Journeys.SaveScreenshotAsync(page, "setup.png");
            await AccessibilityAudit.AssertPageAsync(page, "first-run setup");

            await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create administrator and sign in" }).ClickAsync();
            await page.WaitForURLAsync(BaseAddress.ToString());
            await Journeys.WaitForCircuitAsync(page);
            await Assertions.Expect(page.Locator($"[data-user='{AdministratorName}']")).ToBeVisibleAsync();
            Assert.Empty(problems);

            var state = Path.Combine(DataDirectory, "administrator-state.json");
            await context.StorageStateAsync(new BrowserContextStorageStateOptions { Path = state });
            return _administratorState = state;
        }
        finally
        {
            _setupOnce.Release();
        }
    }

    /// <summary>A local user with one role, made directly in the store (the journey under test is not about accounts).</summary>
    public async Task CreateUserAsync(string userName, string password, string role)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<PortalUser>>();
        var user = new PortalUser { UserName = userName, CreatedAt = DateTimeOffset.UtcNow };
        var created = await users.CreateAsync(user, password);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
        Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
    }

    /// <summary>The user as the portal's services see a signed-in caller, for preparing state through the handlers.</summary>
    public async Task<ClaimsPrincipal> PrincipalForAsync(string userName)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<PortalUser>>();
        var signIn = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.SignInManager<PortalUser>>();
        return await signIn.CreateUserPrincipalAsync(await users.FindByNameAsync(userName) ?? throw new InvalidOperationException($"No user {userName}."));
    }

    /// <summary>
    /// Signs in through the sign-in page the way a person would and returns the saved storage state (a file under the
    /// data folder named after this server, so a restarted server does not reuse the stopped one's cookie).
    /// </summary>
    public async Task<string> SignInStorageStateAsync(IBrowser browser, string userName, string password)
    {
        ArgumentNullException.ThrowIfNull(browser);
        await using var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 900 } });
        var page = await context.NewPageAsync();
        var problems = Journeys.CollectProblems(page);

        var response = await page.GotoAsync(new Uri(BaseAddress, "account/login").ToString());
        Assert.Equal(200, response?.Status);
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(BaseAddress.ToString());
        await Journeys.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator($"[data-user='{userName}']")).ToBeVisibleAsync();
        Assert.Empty(problems);

        var state = Path.Combine(DataDirectory, $"{userName}-state-{BaseAddress.Port}.json");
        await context.StorageStateAsync(new BrowserContextStorageStateOptions { Path = state });
        return state;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        _setupOnce.Dispose();
        SqliteConnection.ClearAllPools();
        if (!KeepData && Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    private sealed class SetupLinkSink : ISetupTokenSink
    {
        private readonly List<SetupLink> _links = [];

        public IReadOnlyList<SetupLink> Links
        {
            get
            {
                lock (_links)
                {
                    return [.. _links];
                }
            }
        }

        public void Publish(SetupLink link)
        {
            lock (_links)
            {
                _links.Add(link);
            }
        }
    }
}
