using System.Net;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Security;

/// <summary>Sign-in, sign-out and who may open what, through real HTTP requests.</summary>
public sealed class AccessTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Theory]
    [InlineData("/", "/account/login?ReturnUrl=%2F")]
    [InlineData("/admin/users", "/account/login?ReturnUrl=%2Fadmin%2Fusers")]
    [InlineData("/not-found", "/account/login?ReturnUrl=%2Fnot-found")]
    [InlineData("/no-such-page", "/account/login?ReturnUrl=%2Fno-such-page")]
    public async Task Anonymous_requests_are_sent_to_sign_in(string path, string expected)
    {
        using var client = factory.CreatePortalClient();
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(expected, Forms.RedirectPath(response));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/account/login")]
    [InlineData("/account/access-denied")]
    [InlineData("/emulator/trust-bundle.pem")]
    public async Task Public_addresses_need_no_sign_in(string path)
    {
        using var client = factory.CreatePortalClient();
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_circuit_hub_needs_sign_in()
    {
        using var client = factory.CreatePortalClient();
        using var response = await client.PostAsync(new Uri("/_blazor/negotiate?negotiateVersion=1", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", Forms.RedirectPath(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sign_in_page_is_a_server_rendered_form_with_antiforgery_and_the_security_headers()
    {
        using var client = factory.CreatePortalClient();
        using var response = await client.GetAsync(new Uri("/account/login", UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Contains("name=\"__RequestVerificationToken\"", html, StringComparison.Ordinal);
        Assert.Contains("data-form=\"login\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<!--Blazor:{", html, StringComparison.Ordinal); // no interactive component marker: no circuit
        Assert.Contains("script-src 'self';", string.Join(",", response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal); // no inline script for the CSP to block
        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    [Theory]
    [InlineData(PortalRoles.Viewer, HttpStatusCode.Redirect)]
    [InlineData(PortalRoles.Operator, HttpStatusCode.Redirect)]
    [InlineData(PortalRoles.Approver, HttpStatusCode.Redirect)]
    [InlineData(PortalRoles.Administrator, HttpStatusCode.OK)]
    public async Task Only_administrators_open_the_users_page(string role, HttpStatusCode expected)
    {
        var userName = "users-page-" + role.ToLowerInvariant();
        await factory.CreateUserAsync(userName, role);
        using var client = await factory.SignedInClientAsync(userName);

        using var home = await client.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, home.StatusCode); // every role includes Viewer

        using var users = await client.GetAsync(new Uri("/admin/users", UriKind.Relative));
        Assert.Equal(expected, users.StatusCode);
        if (expected == HttpStatusCode.Redirect)
        {
            Assert.StartsWith("/account/access-denied", Forms.RedirectPath(users), StringComparison.Ordinal);
        }
        else
        {
            var html = await users.Content.ReadAsStringAsync();
            Assert.Contains("Invite a user", html, StringComparison.Ordinal);
            Assert.Contains($"data-user-row=\"{userName}\"", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_user_without_a_role_is_denied_the_home_page()
    {
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True((await users.CreateAsync(new PortalUser { UserName = "no-role" }, TestPasswords.Default)).Succeeded);
        }

        using var client = await factory.SignedInClientAsync("no-role");
        using var home = await client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.StartsWith("/account/access-denied", Forms.RedirectPath(home), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signing_in_sets_a_strict_http_only_session_cookie_and_signing_out_needs_the_antiforgery_token()
    {
        await factory.CreateUserAsync("sign-out-user", PortalRoles.Viewer);
        using var client = factory.CreatePortalClient();
        var copiedSession = await factory.PrincipalForAsync("sign-out-user");
        using (var signIn = await Forms.SignInAsync(client, "sign-out-user", TestPasswords.Default))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            var cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("CheeseCave.Session=", StringComparison.Ordinal));
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("expires=", cookie, StringComparison.OrdinalIgnoreCase); // a browser-session cookie; the ticket itself lasts 8 h, sliding
        }

        // Without the token the POST is refused and the session stays.
        using (var forged = await client.PostAsync(new Uri("/account/logout", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>())))
        {
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }

        using (var stillIn = await client.GetAsync(new Uri("/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, stillIn.StatusCode);
        }

        var home = await Forms.GetPageAsync(client, "/");
        var token = System.Text.RegularExpressions.Regex.Match(home, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(token), "the sign-out form carries an antiforgery token");
        using (var signOut = await client.PostAsync(new Uri("/account/logout", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
        })))
        {
            Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
            Assert.Equal("/account/login", Forms.RedirectPath(signOut));
        }

        using (var after = await client.GetAsync(new Uri("/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        }

        // A copy of the old cookie fails its next security-stamp check.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            Assert.Null(await scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>().ValidateSecurityStampAsync(copiedSession));
        }

        var audit = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Actor == "sign-out-user").ToListAsync());
        Assert.Contains(audit, a => a.Action == AuditActions.SignIn && a.Outcome == AuditOutcomes.Succeeded);
        Assert.Contains(audit, a => a.Action == AuditActions.SignOut && a.Outcome == AuditOutcomes.Succeeded);
    }

    [Theory]
    [InlineData("%2Fadmin%2Fusers", "/admin/users")]
    [InlineData("%2F%2Fevil.example%2F", "/")]
    [InlineData("https%3A%2F%2Fevil.example%2F", "/")]
    [InlineData("%2F%5Cevil.example", "/")]
    [InlineData("~%2F%2Fevil.example%2F", "/")]
    [InlineData("~%2F%5Cevil.example", "/")]
    [InlineData("~%2Fsetups", "/setups")]
    public async Task Sign_in_returns_only_to_local_addresses(string returnUrl, string expected)
    {
        var userName = "return-" + Guid.NewGuid().ToString("N")[..8];
        await factory.CreateUserAsync(userName, PortalRoles.Administrator);
        using var client = factory.CreatePortalClient();

        using var response = await Forms.SubmitAsync(client, "/account/login?ReturnUrl=" + returnUrl, "login", new Dictionary<string, string>
        {
            ["Input.UserName"] = userName,
            ["Input.Password"] = TestPasswords.Default,
        });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(expected, Forms.RedirectPath(response));
        Assert.Equal("localhost", response.Headers.Location!.IsAbsoluteUri ? response.Headers.Location.Host : "localhost");
    }

    [Fact]
    public async Task A_failed_sign_in_says_so_without_telling_why_and_is_audited()
    {
        await factory.CreateUserAsync("typo-user", PortalRoles.Viewer);
        using var client = factory.CreatePortalClient();

        using var wrong = await Forms.SignInAsync(client, "typo-user", "not the password at all");
        var html = await wrong.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("Sign-in failed.", html, StringComparison.Ordinal);
        Assert.DoesNotContain("not the password at all", html, StringComparison.Ordinal); // never echoed back

        using var unknown = await Forms.SignInAsync(client, "nobody-here", "not the password at all");
        Assert.Contains("Sign-in failed.", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var audit = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Action == AuditActions.SignIn && a.Outcome == AuditOutcomes.Failed).ToListAsync());
        Assert.Contains(audit, a => a.Target == "typo-user" && a.Actor == "typo-user" && a.Detail == "wrong password");
        Assert.Contains(audit, a => a.Target == "nobody-here" && a.Actor == "anonymous" && a.Detail == "unknown user");
    }

    [Fact]
    public async Task A_disabled_user_cannot_sign_in_and_loses_an_open_session()
    {
        await factory.CreateUserAsync("disable-admin", PortalRoles.Administrator);
        var target = await factory.CreateUserAsync("soon-disabled", PortalRoles.Operator);
        var sessionBefore = await factory.PrincipalForAsync("soon-disabled");

        var administration = factory.Services.GetRequiredService<UserAdministration>();
        var disabled = await administration.SetDisabledAsync(await factory.PrincipalForAsync("disable-admin"), target.Id, disabled: true);
        Assert.True(disabled.Succeeded, disabled.ErrorText);

        using var client = factory.CreatePortalClient();
        using var attempt = await Forms.SignInAsync(client, "soon-disabled", TestPasswords.Default);
        Assert.Equal(HttpStatusCode.OK, attempt.StatusCode);
        Assert.Contains("Sign-in failed.", await attempt.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(attempt.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("CheeseCave.Session=", StringComparison.Ordinal)));

        // The periodic cookie check and the circuit revalidation both reject the old session.
        await using var scope = factory.Services.CreateAsyncScope();
        var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
        Assert.Null(await signIn.ValidateSecurityStampAsync(sessionBefore));

        var audit = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Target == "soon-disabled").ToListAsync());
        Assert.Contains(audit, a => a.Action == AuditActions.UserDisabled && a.Actor == "disable-admin" && a.Outcome == AuditOutcomes.Succeeded);
        Assert.Contains(audit, a => a.Action == AuditActions.SignIn && a.Outcome == AuditOutcomes.Failed && a.Detail == "account disabled");

        // Enabled again, the user signs in.
        Assert.True((await administration.SetDisabledAsync(await factory.PrincipalForAsync("disable-admin"), target.Id, disabled: false)).Succeeded);
        using var again = await Forms.SignInAsync(client, "soon-disabled", TestPasswords.Default);
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
    }

    [Fact]
    public async Task Sign_in_is_rate_limited_per_user_name_and_address()
    {
        using var client = factory.CreatePortalClient();
        var token = await Forms.AntiforgeryTokenAsync(client, "/account/login");

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var allowed = await Forms.PostSignInAsync(client, token, "rate-limited", "wrong password " + attempt);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var limited = await Forms.PostSignInAsync(client, token, "rate-limited", "wrong password 6");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("text/plain", limited.Content.Headers.ContentType?.MediaType);
        Assert.Equal(SignInRateLimiting.RejectionMessage, await limited.Content.ReadAsStringAsync());
        Assert.True(limited.Headers.RetryAfter is not null || limited.Headers.Contains("Retry-After"));

        // The same user name in another case is the same partition; another user name is not limited.
        using var otherCase = await Forms.PostSignInAsync(client, token, "RATE-LIMITED", "x");
        Assert.Equal(HttpStatusCode.TooManyRequests, otherCase.StatusCode);
        using var other = await Forms.PostSignInAsync(client, token, "someone-else", "x");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        // Reading pages is never limited.
        using var page = await client.GetAsync(new Uri("/account/login", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_for_fifteen_minutes()
    {
        await factory.CreateUserAsync("lockout-user", PortalRoles.Viewer);
        using var client = factory.CreatePortalClient();
        var token = await Forms.AntiforgeryTokenAsync(client, "/account/login");
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var response = await Forms.PostSignInAsync(client, token, "lockout-user", "wrong password " + attempt);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByNameAsync("lockout-user");
        Assert.NotNull(user);
        Assert.True(await users.IsLockedOutAsync(user));
        Assert.InRange((user.LockoutEnd!.Value - DateTimeOffset.UtcNow).TotalMinutes, 14, 15.1);

        var audit = await factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Target == "lockout-user" && a.Detail == "locked out").CountAsync());
        Assert.Equal(1, audit);
    }

    [Fact]
    public void Data_lives_in_the_configured_folder_with_an_owner_only_key_ring()
    {
        var paths = factory.Services.GetRequiredService<PortalPaths>();
        Assert.Equal(factory.DataDirectory, paths.DataDirectory);
        Assert.True(File.Exists(Path.Combine(factory.DataDirectory, "cheesecave.db")));

        var keys = new DirectoryInfo(Path.Combine(factory.DataDirectory, "keys"));
        Assert.True(keys.Exists);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, keys.UnixFileMode);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(factory.DataDirectory, "cheesecave.db")));
        }
    }
}
