using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;

namespace CheeseCave.E2E;

/// <summary>Runs where a PostgreSQL server is given (tests/run.sh starts one) and nginx is installed; says why otherwise.</summary>
public sealed class ClusterFactAttribute : FactAttribute
{
    public ClusterFactAttribute()
    {
        if (ClusterJourney.Server is null && Environment.GetEnvironmentVariable("CHEESECAVE_TEST_REQUIRE_POSTGRES") != "1")
        {
            Skip = "No PostgreSQL server: start one with eval \"$(tests/postgres.sh start)\" (it exports CHEESECAVE_TEST_POSTGRES), or run tests/run.sh, which does.";
        }
        else if (ClusterNginx.Executable is null)
        {
            Skip = "nginx is not installed (tests/run.sh installs Debian's nginx-light): apt-get install -y nginx-light";
        }
    }
}

/// <summary>
/// Two portal processes on one PostgreSQL database behind nginx, each browser pinned to one of them: an approval asked
/// on one instance appears live on the other's page and its decision flows back; a DPS creation started on one shows
/// its progress on the other, and when its process is killed mid-way the other reports it as interrupted. Nothing is
/// applied twice.
/// </summary>
public sealed class ClusterJourney
{
    private const string AdminName = "ada";
    private const string AdminPassword = "ripened in the cave 7";
    private const string OperatorName = "oskar";
    private const string OperatorPassword = "a wheel of comte, turned weekly";

    public static string? Server { get; } = Environment.GetEnvironmentVariable("CHEESECAVE_TEST_POSTGRES") is { Length: > 0 } s ? s : null;

    [ClusterFact]
    public async Task AnApprovalAndAKilledOperationAreSeenLiveOnTheOtherInstance()
    {
        var database = new NpgsqlConnectionStringBuilder(Server ?? throw new InvalidOperationException("CHEESECAVE_TEST_POSTGRES is not set; tests/run.sh starts PostgreSQL and sets it."))
        {
            Database = "cheesecave_cluster_" + Guid.NewGuid().ToString("N")[..12],
        }.ConnectionString;
        var shared = new Dictionary<string, string>
        {
            ["CheeseCave:Database:Provider"] = "PostgreSQL",
            ["ConnectionStrings:CheeseCave"] = database,
            ["CheeseCave:Cluster:Instances"] = "2",
            ["CheeseCave:Cluster:HeartbeatInterval"] = "00:00:00.500",
            ["CheeseCave:Cluster:StaleAfter"] = "00:00:03",
            ["CheeseCave:Approvals:Enabled"] = "true",
            ["CheeseCave:ReverseProxy:KnownProxies:0"] = "127.0.0.1",
        };

        try
        {
            await PrepareAsync(shared);
            await using var a = await PortalProcess.StartAsync(shared);
            // B's emulator answers ARM slowly, so B's DPS creation is surely still running when B is killed.
            await using var b = await PortalProcess.StartAsync(new Dictionary<string, string>(shared) { ["CheeseCave:Emulator:Faults:Arm:AddedLatencyMs"] = "1500" });
            await using var nginx = await ClusterNginx.StartAsync([("a", a.Port), ("b", b.Port)]);
            await WalkAsync(nginx, b, database);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Server!) { Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{new NpgsqlConnectionStringBuilder(database).Database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>The schema and the two people, made by a short-lived in-process portal on the same database.</summary>
    private static async Task PrepareAsync(Dictionary<string, string> shared)
    {
        var data = Path.Combine(Path.GetTempPath(), "cheesecave-cluster-prep-" + Guid.NewGuid().ToString("N"));
        await using var tool = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            foreach (var (key, value) in shared)
            {
                builder.UseSetting(key, value);
            }

            builder.UseSetting("CheeseCave:DataDirectory", data);
            builder.UseSetting("CheeseCave:Emulator:HttpsPort", "0");
            builder.UseSetting("CheeseCave:Emulator:MqttPort", "0");
        });
        await using var scope = tool.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        foreach (var (name, password, role) in new[] { (AdminName, AdminPassword, PortalRoles.Administrator), (OperatorName, OperatorPassword, PortalRoles.Operator) })
        {
            var user = new PortalUser { UserName = name, CreatedAt = DateTimeOffset.UtcNow };
            Assert.True((await users.CreateAsync(user, password)).Succeeded);
            Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
        }

        await scope.DisposeAsync();
        await tool.DisposeAsync();
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task WalkAsync(ClusterNginx nginx, PortalProcess b, string database)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchChromiumAsync(playwright);
        var (admin, adminProblems) = await SignedInPageAsync(browser, nginx, "a", AdminName, AdminPassword);
        var (op, operatorProblems) = await SignedInPageAsync(browser, nginx, "b", OperatorName, OperatorPassword);

        // The approver on instance A watches the Approvals page.
        await admin.Locator("[data-nav=approvals]").ClickAsync();
        await Assertions.Expect(admin.Locator("[data-no-approvals]")).ToBeVisibleAsync();

        // The operator on instance B asks for a CA.
        await op.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Setup wizard" }).ClickAsync();
        await Assertions.Expect(op.Locator("[data-no-setups]")).ToBeVisibleAsync();
        await op.Locator("#setup-name").FillAsync("Cave cluster");
        await op.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create and start" }).ClickAsync();
        await op.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/setups/\\d+/dps$"));
        var dpsStepUrl = op.Url;
        await op.Locator("[data-step=ca]").ClickAsync();
        await op.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Generate CA" }).ClickAsync();
        var banner = op.Locator("[data-approval-banner]");
        await Assertions.Expect(banner).ToHaveAttributeAsync("data-approval-banner", "Pending");

        // A's page shows B's request without a reload; approved on A, B's step shows the CA without a reload.
        var row = admin.Locator("[data-approval-row]");
        await Assertions.Expect(row).ToContainTextAsync("Create root CA \"Cave cluster Root CA\"");
        await Journeys.SaveScreenshotAsync(admin, "cluster-1-approver-on-a-sees-request-from-b.png");
        await admin.Locator("[data-open-approval]").ClickAsync();
        await admin.Locator("[data-approve]").ClickAsync();
        await Assertions.Expect(admin.Locator("[data-applied]")).ToContainTextAsync("Created the root CA");
        await Assertions.Expect(banner).ToHaveAttributeAsync("data-approval-banner", "Applied");
        await Assertions.Expect(op.Locator("[data-certificate=Root] [data-certificate-details]")).ToContainTextAsync("CN=Cave cluster Root CA");
        await Journeys.SaveScreenshotAsync(op, "cluster-2-operator-on-b-sees-it-applied.png");

        // The operator starts a DPS creation on B; the administrator's DPS step on A shows it running.
        await admin.GotoAsync(dpsStepUrl);
        await Journeys.WaitForCircuitAsync(admin);
        await op.GotoAsync(dpsStepUrl);
        await Journeys.WaitForCircuitAsync(op);
        await op.Locator("#dps-name").FillAsync("cave-cluster-dps");
        await Assertions.Expect(op.GetByText("cave-cluster-dps is available.")).ToBeVisibleAsync();
        await op.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create DPS" }).ClickAsync();
        var progressOnA = admin.Locator("[data-progress][data-operation=CreateDps]");
        await Assertions.Expect(progressOnA).ToBeVisibleAsync();
        await Assertions.Expect(admin.Locator("[data-progress-by]")).ToContainTextAsync($"Started by {OperatorName}");
        await Journeys.SaveScreenshotAsync(admin, "cluster-3-a-shows-b-creating-the-dps.png");

        // B dies mid-way (SIGKILL): A notices its silence and reports the operation as interrupted, and may start anew.
        var operatorProblemsBeforeTheKill = operatorProblems.ToList(); // afterwards its page can only fail to reconnect
        await b.KillAsync();
        await Assertions.Expect(admin.GetByText("Creating the DPS was interrupted: the portal instance running it stopped.")).ToBeVisibleAsync();
        await Assertions.Expect(progressOnA).ToHaveCountAsync(0);
        await Journeys.SaveScreenshotAsync(admin, "cluster-4-a-reports-the-operation-interrupted.png");

        // Nothing applied twice: one root CA, one apply in the audit, the operation ended once (as interrupted).
        await using var db = new NpgsqlConnection(database);
        await db.OpenAsync();
        Assert.Equal(1L, await ScalarAsync(db, "SELECT count(*) FROM \"SetupCertificates\""));
        Assert.Equal(1L, await ScalarAsync(db, $"SELECT count(*) FROM \"AuditEntries\" WHERE \"Action\" = '{CheeseCave.Portal.Approvals.ApprovalAuditActions.Applied}'"));
        Assert.Equal(1L, await ScalarAsync(db, "SELECT count(*) FROM \"SetupOperations\" WHERE \"Kind\" = 'CreateDps' AND \"EndedAt\" IS NOT NULL AND \"ErrorJson\" LIKE '%was interrupted%'"));
        Assert.Empty(adminProblems);
        Assert.Empty(operatorProblemsBeforeTheKill);
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection db, string sql)
    {
        await using var command = new NpgsqlCommand(sql, db);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<(IPage Page, List<string> Problems)> SignedInPageAsync(IBrowser browser, ClusterNginx nginx, string instance, string userName, string password)
    {
        var context = await Browser.NewContextAsync(browser, new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 900 }, IgnoreHTTPSErrors = true });
        await context.AddCookiesAsync([new Cookie { Name = ClusterNginx.AffinityCookie, Value = instance, Url = nginx.Address.ToString() }]);
        var page = await context.NewPageAsync();
        var problems = Journeys.CollectProblems(page);
        await page.GotoAsync(new Uri(nginx.Address, "account/login").ToString());
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(nginx.Address.ToString());
        await Journeys.WaitForCircuitAsync(page);
        return (page, problems);
    }
}
