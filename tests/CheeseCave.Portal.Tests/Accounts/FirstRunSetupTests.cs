using System.Net;
using System.Security.Cryptography;
using System.Text;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Accounts;

public sealed class FirstRunSetupTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private static Dictionary<string, string> SetupFields(string userName, string password) => new()
    {
        ["Input.UserName"] = userName,
        ["Input.Password"] = password,
        ["Input.ConfirmPassword"] = password,
    };

    [Fact]
    public async Task The_setup_link_creates_the_first_administrator_once()
    {
        using var browser = factory.CreatePortalClient();
        var link = factory.SetupLinks.Only;
        Assert.StartsWith("/setup/", link.Url.AbsolutePath, StringComparison.Ordinal);
        Assert.InRange(link.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromHours(23.9), TimeSpan.FromHours(24));
        var path = link.Url.PathAndQuery;
        var token = path["/setup/".Length..];

        // At rest there is only the token's SHA-256.
        var stored = await factory.WithDbAsync(db => db.SetupTokens.AsNoTracking().SingleAsync());
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token)), stored.TokenHash);
        Assert.Null(stored.UsedAt);

        var page = await Forms.GetPageAsync(browser, path);
        Assert.Contains("Create the first administrator", page, StringComparison.Ordinal);

        // Identity's password rule: at least 12 characters. The link survives a rejected attempt.
        using (var tooShort = await Forms.SubmitAsync(browser, path, "setup", SetupFields("alice", "short pw")))
        {
            Assert.Equal(HttpStatusCode.OK, tooShort.StatusCode);
            Assert.Contains("at least 12 characters", await tooShort.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var created = await Forms.SubmitAsync(browser, path, "setup", SetupFields("alice", TestPasswords.Default)))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
            Assert.Equal("/", Forms.RedirectPath(created));
        }

        // Signed in as the new administrator.
        using (var home = await browser.GetAsync(new Uri("/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, home.StatusCode);
            Assert.Contains("data-user=\"alice\"", await home.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var alice = await users.FindByNameAsync("alice");
            Assert.NotNull(alice);
            Assert.Equal([PortalRoles.Administrator], await users.GetRolesAsync(alice));
            Assert.True(await users.CheckPasswordAsync(alice, TestPasswords.Default));
        }

        // The link is spent: its page says so, and a replayed form post creates nobody.
        using var stranger = factory.CreatePortalClient();
        var again = await Forms.GetPageAsync(stranger, path);
        Assert.Contains("This setup link cannot be used", again, StringComparison.Ordinal);
        Assert.DoesNotContain("data-form=\"setup\"", again, StringComparison.Ordinal);

        var antiforgery = await Forms.AntiforgeryTokenAsync(stranger, "/account/login");
        using var replay = new FormUrlEncodedContent(new Dictionary<string, string>(SetupFields("mallory", TestPasswords.Default))
        {
            ["__RequestVerificationToken"] = antiforgery,
            ["_handler"] = "setup",
        });
        using (var replayed = await stranger.PostAsync(new Uri(path, UriKind.Relative), replay))
        {
            Assert.NotEqual(HttpStatusCode.Redirect, replayed.StatusCode);
        }

        Assert.Equal(1, await factory.WithDbAsync(db => db.Users.CountAsync()));
        Assert.NotNull((await factory.WithDbAsync(db => db.SetupTokens.AsNoTracking().SingleAsync())).UsedAt);

        var audit = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().OrderBy(a => a.Id).ToListAsync());
        Assert.Contains(audit, a => a.Action == AuditActions.SetupLinkIssued && a.Actor == "system");
        Assert.Contains(audit, a => a.Action == AuditActions.SetupCompleted && a.Actor == "alice" && a.Outcome == AuditOutcomes.Succeeded);
        Assert.Contains(audit, a => a.Action == AuditActions.SignIn && a.Actor == "alice" && a.Outcome == AuditOutcomes.Succeeded);
        Assert.All(audit, a => Assert.False(string.IsNullOrEmpty(a.CorrelationId)));

        // The token never reaches the database file in clear.
        var databaseBytes = await File.ReadAllBytesAsync(Path.Combine(factory.DataDirectory, PortalDbContext.FileName));
        var walPath = Path.Combine(factory.DataDirectory, PortalDbContext.FileName + "-wal");
        var walBytes = File.Exists(walPath) ? await ReadSharedAsync(walPath) : [];
        Assert.DoesNotContain(token, Encoding.ASCII.GetString(databaseBytes) + Encoding.ASCII.GetString(walBytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_or_unknown_setup_token_shows_the_unusable_page()
    {
        using var browser = factory.CreatePortalClient();
        Assert.Contains("This setup link cannot be used", await Forms.GetPageAsync(browser, "/setup/not-a-token"), StringComparison.Ordinal);
        Assert.Contains("This setup link cannot be used", await Forms.GetPageAsync(browser, "/setup/" + OneTimeToken.Create()), StringComparison.Ordinal);
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
