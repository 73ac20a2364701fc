using System.Net;
using System.Net.Sockets;
using System.Text;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Security;

/// <summary>The findings of the security probe, replayed against the portal as it runs in production (real Kestrel, Production environment).</summary>
public sealed class ProductionHardeningTests(ProductionPortal portal) : IClassFixture<ProductionPortal>
{
    [Fact]
    public async Task Every_spelling_of_the_sign_in_path_counts_against_the_same_limit()
    {
        var cookies = new CookieContainer();
        using var client = portal.CreateRealClient(cookies: cookies);
        var token = await Forms.AntiforgeryTokenAsync(client, "/account/login");

        // Five attempts (the per-user limit), each under another spelling of the same page.
        foreach (var path in new[] { "/account/login", "/account/login/", "/ACCOUNT/LOGIN/", "/Account/Login", "/account/LOGIN" })
        {
            using var allowed = await PostSignInAsync(client, path, token, "sprayed-user");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        // HttpClient removes dot segments itself: send "/account/login/." as it is, over a socket.
        var status = await RawSignInStatusAsync(cookies, "/account/login/.", token, "sprayed-user");
        Assert.Equal(429, status);
        using var limited = await PostSignInAsync(client, "/ACCOUNT/LOGIN/", token, "sprayed-user");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
    }

    [Fact]
    public async Task Sign_out_without_an_antiforgery_token_answers_400()
    {
        await portal.CreateUserAsync("no-token-signout", PortalRoles.Viewer);
        using var client = await SignedInAsync("no-token-signout");

        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["ReturnUrl"] = "/" });
        using var response = await client.PostAsync(new Uri("/account/logout", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        AssertNoInternals(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_CA_import_without_an_antiforgery_token_answers_400()
    {
        await portal.CreateUserAsync("no-token-import", PortalRoles.Operator);
        using var client = await SignedInAsync("no-token-import");

        using var content = new MultipartFormDataContent { { new StringContent("not a certificate"), "certificateText" } };
        using var response = await client.PostAsync(new Uri("/setups/1/ca/import", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        AssertNoInternals(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_non_ASCII_return_url_signs_in_and_lands_home()
    {
        await portal.CreateUserAsync("unicode-return", PortalRoles.Viewer);
        using var client = portal.CreateRealClient();
        const string Path = "/account/login?ReturnUrl=%2F%E3%80%82%2Fevil.example";
        var token = await Forms.AntiforgeryTokenAsync(client, Path);

        using var response = await PostSignInAsync(client, Path, token, "unicode-return", TestPasswords.Default);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", Forms.RedirectPath(response));
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("CheeseCave.Session=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("one huge value")]
    [InlineData("too many fields")]
    [InlineData("body over the server limit")]
    public async Task An_oversized_sign_in_post_answers_413_or_400_and_writes_nothing(string shape)
    {
        using var client = portal.CreateRealClient();
        var token = await Forms.AntiforgeryTokenAsync(client, "/account/login");
        var fields = new List<KeyValuePair<string, string>>
        {
            new("__RequestVerificationToken", token),
            new("_handler", "login"),
            new("Input.UserName", "oversized-" + shape.Replace(' ', '-')),
            new("Input.Password", "x"),
        };
        switch (shape)
        {
            case "one huge value": fields.Add(new("Input.Password", new string('a', 5 * 1024 * 1024))); break;
            case "too many fields": fields.AddRange(Enumerable.Range(0, 2000).Select(i => new KeyValuePair<string, string>("f" + i, "v"))); break;
            default: fields.Add(new("padding", new string('a', 31 * 1024 * 1024))); break;
        }

        var auditBefore = await AuditCountAsync();
        using var content = new FormUrlEncodedContent(fields);
        using var response = await client.PostAsync(new Uri("/account/login", UriKind.Relative), content);

        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.BadRequest });
        var body = await response.Content.ReadAsStringAsync();
        AssertNoInternals(body);
        Assert.DoesNotContain("antiforgery", body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(auditBefore, await AuditCountAsync());
    }

    [Fact]
    public async Task An_oversized_CA_import_gets_a_readable_413()
    {
        await portal.CreateUserAsync("big-import", PortalRoles.Operator);
        using var client = await SignedInAsync("big-import");
        var token = await Forms.AntiforgeryTokenAsync(client, "/");

        using var content = new MultipartFormDataContent
        {
            { new StringContent(token), "__RequestVerificationToken" },
            { new ByteArrayContent(new byte[8 * 1024 * 1024]), "certificate", "huge.pfx" },
        };
        using var response = await client.PostAsync(new Uri("/setups/1/ca/import", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("too large", body, StringComparison.OrdinalIgnoreCase);
        AssertNoInternals(body);
    }

    [Fact]
    public async Task Over_HTTPS_the_antiforgery_cookie_is_Secure_and_HSTS_is_sent()
    {
        using var client = portal.CreateRealClient(https: true);

        client.DefaultRequestHeaders.Host = "portal.example"; // HSTS is never sent to localhost or loopback addresses

        using var response = await client.GetAsync(new Uri("/account/login", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var antiforgery = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal));
        Assert.Contains("secure", antiforgery, StringComparison.OrdinalIgnoreCase);
        Assert.True(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task The_content_security_policy_connects_to_this_origin_only()
    {
        using var client = portal.CreateRealClient();

        using var response = await client.GetAsync(new Uri("/account/login", UriKind.Relative));

        var csp = string.Join(", ", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("connect-src 'self';", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("ws:", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("wss:", csp, StringComparison.Ordinal);
    }

    private async Task<HttpClient> SignedInAsync(string userName)
    {
        var client = portal.CreateRealClient();
        var token = await Forms.AntiforgeryTokenAsync(client, "/account/login");
        using var response = await PostSignInAsync(client, "/account/login", token, userName, TestPasswords.Default);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    private static async Task<HttpResponseMessage> PostSignInAsync(HttpClient client, string path, string token, string userName, string password = "not the password")
    {
        using var content = new FormUrlEncodedContent(SignInFields(token, userName, password));
        return await client.PostAsync(new Uri(path, UriKind.Relative), content);
    }

    private static Dictionary<string, string> SignInFields(string token, string userName, string password) => new()
    {
        ["__RequestVerificationToken"] = token,
        ["_handler"] = "login",
        [SignInRateLimiting.UserNameField] = userName,
        ["Input.Password"] = password,
    };

    private async Task<int> RawSignInStatusAsync(CookieContainer cookies, string rawPath, string token, string userName)
    {
        using var form = new FormUrlEncodedContent(SignInFields(token, userName, "not the password"));
        var body = await form.ReadAsByteArrayAsync();
        var head = $"POST {rawPath} HTTP/1.1\r\nHost: {portal.HttpAddress.Authority}\r\n" +
            $"Cookie: {cookies.GetCookieHeader(portal.HttpAddress)}\r\n" +
            $"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, portal.HttpAddress.Port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync() ?? "";
        return int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private Task<int> AuditCountAsync()
    {
        var scope = portal.Services.CreateAsyncScope();
        return CountAsync(scope);

        static async Task<int> CountAsync(AsyncServiceScope scope)
        {
            await using (scope)
            {
                return await scope.ServiceProvider.GetRequiredService<PortalDbContext>().AuditEntries.CountAsync();
            }
        }
    }

    /// <summary>No stack trace, no source path, no exception type names.</summary>
    private static void AssertNoInternals(string body)
    {
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\bat [\w.`]+\(", body);
        Assert.DoesNotContain(".cs:line", body, StringComparison.Ordinal);
        Assert.DoesNotContain("/src/", body, StringComparison.Ordinal);
    }
}
