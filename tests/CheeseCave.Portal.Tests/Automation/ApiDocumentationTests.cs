using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Automation;

public sealed class ApiDocumentationTests
{
    [Fact]
    public async Task The_openapi_document_is_valid_json_and_lists_every_api_operation()
    {
        await using var portal = await ApiPortal.StartAsync(name: "docs");
        await portal.Factory.CreateUserAsync("docs-viewer", PortalRoles.Viewer);
        using var browser = await portal.Factory.SignedInClientAsync("docs-viewer");
        using var response = await browser.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = document.GetProperty("paths");
        var operations = paths.EnumerateObject().SelectMany(p => p.Value.EnumerateObject().Select(o => $"{o.Name.ToUpperInvariant()} {p.Name}")).ToList();
        Assert.Equal(
            [
                "DELETE /api/v1/devices/{deviceId}/revocation", "GET /api/v1/approvals/{requestId}", "GET /api/v1/certificates", "GET /api/v1/grants", "GET /api/v1/grants/{grantId}", "GET /api/v1/setups",
                "POST /api/v1/devices/{deviceId}/renewal", "POST /api/v1/devices/{deviceId}/revocation",
                "POST /api/v1/grants", "POST /api/v1/grants/{grantId}/certificates", "POST /api/v1/setups/{setupId}/device-batches",
            ],
            operations.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(paths.EnumerateObject(), p => !p.Name.StartsWith("/api/v1/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/scalar")]
    [InlineData("/openapi/v1.json")]
    public async Task The_api_reference_and_document_send_anonymous_visitors_to_sign_in(string path)
    {
        await using var portal = await ApiPortal.StartAsync(name: "anon-docs");
        using var anonymous = portal.Factory.CreatePortalClient();
        using var response = await anonymous.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", Forms.RedirectPath(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_api_reference_renders_for_a_signed_in_user_with_its_script_allowed_by_a_nonce()
    {
        await using var portal = await ApiPortal.StartAsync(name: "scalar");
        await portal.Factory.CreateUserAsync("scalar-viewer", PortalRoles.Viewer);
        using var browser = await portal.Factory.SignedInClientAsync("scalar-viewer");
        using var response = await browser.GetAsync(new Uri("/scalar", UriKind.Relative));
        if (response.StatusCode == HttpStatusCode.Redirect)
        {
            using var followed = await browser.GetAsync(new Uri(Forms.RedirectPath(response), UriKind.Relative));
            await AssertScalarPageAsync(followed);
            return;
        }

        await AssertScalarPageAsync(response);
    }

    private static async Task AssertScalarPageAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        var csp = string.Join(" ", response.Headers.GetValues("Content-Security-Policy"));
        var nonce = csp.Split(' ').Single(p => p.StartsWith("'nonce-", StringComparison.Ordinal))[7..].TrimEnd(';', '\'');
        Assert.Contains($"nonce=\"{nonce}\"", html, StringComparison.Ordinal);
        Assert.Contains("openapi", html, StringComparison.Ordinal);
        Assert.Contains("scalar.js", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_over_its_rate_limit_gets_429_with_retry_after()
    {
        await using var portal = await ApiPortal.StartAsync(name: "limit");
        var token = await portal.TokenAsync(portal.Operator, "read");
        await using var limited = portal.Factory.WithWebHostBuilder(b => b.UseSetting("CheeseCave:Api:RequestsPerSecond", "1").UseSetting("CheeseCave:Api:Burst", "2"));
        using var client = limited.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync(new Uri("/api/v1/setups", UriKind.Relative));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
                Assert.Contains("rate limit", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString(), StringComparison.Ordinal);
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }
}
