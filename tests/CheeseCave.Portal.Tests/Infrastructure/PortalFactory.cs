using System.Net;
using System.Security.Claims;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>
/// The portal with its own temporary data folder, the embedded emulator on free ports, and the first-run setup
/// link captured instead of logged.
/// </summary>
public sealed class PortalFactory : WebApplicationFactory<Program>
{
    /// <summary>A fresh temporary folder, or a given one to restart a portal on the same data.</summary>
    public string DataDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "cheesecave-portal-test-" + Guid.NewGuid().ToString("N"));

    public CapturingSetupTokenSink SetupLinks { get; } = new();

    /// <summary>Four eyes (CheeseCave:Approvals): off unless a test is about approvals.</summary>
    public bool Approvals { get; init; }

    /// <summary>CheeseCave:Approvals:RequiredFor, when a test gates only some actions (null: all of them).</summary>
    public IReadOnlyList<string>? ApprovalsRequiredFor { get; init; }

    /// <summary>
    /// SQLite in the data folder, or a PostgreSQL database of this portal's own named after its data folder (so a
    /// restart on the same folder finds the same data). Default: CHEESECAVE_TEST_DATABASE (<see cref="TestDatabases"/>).
    /// </summary>
    public DatabaseProvider Database { get; init; } = TestDatabases.DefaultProvider;

    /// <summary>
    /// Several portals on one PostgreSQL database (the cluster tests): the same name gives the same database, which
    /// the test drops itself (<see cref="TestDatabases.DropAsync"/>); null gives this portal a database of its own.
    /// </summary>
    public string? SharedDatabase { get; init; }

    /// <summary>CheeseCave:Cluster:Instances, with a fast heartbeat so a dead instance is noticed within seconds.</summary>
    public int? ClusterInstances { get; init; }

    private string? PostgreSqlConnectionString =>
        Database == DatabaseProvider.PostgreSql ? TestDatabases.ConnectionStringFor(SharedDatabase ?? DataDirectory) : null;

    /// <summary>CheeseCave:Emulator:Timing ("azure-like" for the tests that watch operations take seconds); default instant.</summary>
    public string? EmulatorTiming { get; init; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        if (EmulatorTiming is not null) builder.UseSetting("CheeseCave:Emulator:Timing", EmulatorTiming);
        builder.UseSetting("CheeseCave:DataDirectory", DataDirectory);
        if (PostgreSqlConnectionString is { } postgres)
        {
            builder.UseSetting("CheeseCave:Database:Provider", DatabaseOptions.PostgreSql);
            builder.UseSetting("ConnectionStrings:CheeseCave", postgres);
        }

        if (ClusterInstances is { } instances)
        {
            builder.UseSetting("CheeseCave:Cluster:Instances", instances.ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("CheeseCave:Cluster:HeartbeatInterval", "00:00:00.250");
            builder.UseSetting("CheeseCave:Cluster:StaleAfter", "00:00:01");
        }

        builder.UseSetting("CheeseCave:Emulator:HttpsPort", "0");
        builder.UseSetting("CheeseCave:Emulator:MqttPort", "0");
        builder.UseSetting("CheeseCave:Approvals:Enabled", Approvals ? "true" : "false");

        // Many tests share one host and one client address: keep the per-address limit out of their way. The
        // per-user limit (5 a minute) stays as configured; tests use distinct user names.
        builder.UseSetting("CheeseCave:SignInRateLimit:PerAddress", "1000");
        builder.UseSetting("CheeseCave:SignInRateLimit:OnboardingPerAddress", "1000");
        builder.ConfigureTestServices(services =>
        {
            services.Replace(ServiceDescriptor.Singleton<ISetupTokenSink>(SetupLinks));
            if (ApprovalsRequiredFor is { } requiredFor)
            {
                // Replaces appsettings.json's list (a setting per index would only overwrite its first entries).
                services.PostConfigure<ApprovalOptions>(o => o.RequiredFor = [.. requiredFor]);
            }
        });
    }

    /// <summary>A client that does not follow redirects (so tests see them) and keeps cookies.</summary>
    public HttpClient CreatePortalClient() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public async Task<PortalUser> CreateUserAsync(string userName, string role, string password = TestPasswords.Default)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = new PortalUser { UserName = userName, CreatedAt = DateTimeOffset.UtcNow };
        var created = await users.CreateAsync(user, password);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
        var added = await users.AddToRoleAsync(user, role);
        Assert.True(added.Succeeded, string.Join(" ", added.Errors.Select(e => e.Description)));
        return user;
    }

    /// <summary>The principal a signed-in user's cookie would carry (with role and security-stamp claims).</summary>
    public async Task<ClaimsPrincipal> PrincipalForAsync(string userName)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
        var user = await users.FindByNameAsync(userName) ?? throw new InvalidOperationException($"no user {userName}");
        return await signIn.CreateUserPrincipalAsync(user);
    }

    public async Task<T> WithDbAsync<T>(Func<PortalDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<PortalDbContext>());
    }

    /// <summary>A client signed in through the real sign-in form.</summary>
    public async Task<HttpClient> SignedInClientAsync(string userName, string password = TestPasswords.Default)
    {
        var client = CreatePortalClient();
        using var response = await Forms.SignInAsync(client, userName, password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    /// <summary>Leave the data folder in place when disposed (for restart tests).</summary>
    public bool KeepData { get; init; }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (KeepData)
        {
            return;
        }

        if (PostgreSqlConnectionString is { } postgres && SharedDatabase is null)
        {
            await TestDatabases.DropAsync(postgres);
        }

        await TestFolders.DeleteAsync(DataDirectory);
    }
}
