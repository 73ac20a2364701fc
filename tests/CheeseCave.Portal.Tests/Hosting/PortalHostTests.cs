using System.Net;
using System.Text.RegularExpressions;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Hosting;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Tests.Hosting;

public sealed partial class PortalHostTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_home_page_names_the_product_links_MudBlazor_and_sends_security_headers()
    {
        await factory.CreateUserAsync("host-viewer", PortalRoles.Viewer);
        using var client = await factory.SignedInClientAsync("host-viewer");

        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("CheeseCave Portal", html, StringComparison.Ordinal);
        Assert.Contains("A guided, team-safe replacement for the cheese-cave DPS X.509 setup.", html, StringComparison.Ordinal);
        Assert.Matches(MudBlazorCss(), html);

        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        var csp = Header(response, "Content-Security-Policy");
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MudBlazor_and_site_styles_linked_from_the_page_are_served()
    {
        // Anonymous: the sign-in page and its styles must load before anyone has signed in.
        using var client = factory.CreateClient();
        var html = await client.GetStringAsync(new Uri("/account/login", UriKind.Relative));

        foreach (var pattern in new[] { MudBlazorCss(), AppCss() })
        {
            var href = pattern.Match(html).Value;
            Assert.False(string.IsNullOrEmpty(href), $"no link matching {pattern} in the page");

            using var css = await client.GetAsync(new Uri("/" + href, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, css.StatusCode);
            Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
            Assert.Equal("nosniff", Header(css, "X-Content-Type-Options"));
        }
    }

    [Fact]
    public async Task Healthz_returns_ok()
    {
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unknown_url_returns_404_with_security_headers()
    {
        await factory.CreateUserAsync("host-lost", PortalRoles.Viewer);
        using var client = await factory.SignedInClientAsync("host-lost");

        using var response = await client.GetAsync(new Uri("/no-such-page", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Not found", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
    }

    [Fact]
    public void The_portal_uses_the_top_level_appsettings_json_and_wwwroot()
    {
        var environment = factory.Services.GetRequiredService<IWebHostEnvironment>();
        var repositoryRoot = PortalContentRoot.FindRepositoryRoot(AppContext.BaseDirectory);

        Assert.NotNull(repositoryRoot);
        Assert.Equal(Path.TrimEndingDirectorySeparator(repositoryRoot), Path.TrimEndingDirectorySeparator(environment.ContentRootPath));
        Assert.True(File.Exists(Path.Combine(environment.WebRootPath, "app.css")));
        Assert.Equal("127.0.0.1", factory.Services.GetRequiredService<IOptions<CheeseCaveOptions>>().Value.Emulator.BindAddress); // from the top-level appsettings.json
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : string.Empty;

    [GeneratedRegex(@"_content/MudBlazor/MudBlazor\.min\.(?:[a-z0-9]+\.)?css")]
    private static partial Regex MudBlazorCss();

    [GeneratedRegex(@"(?<=href="")app\.(?:[a-z0-9]+\.)?css")]
    private static partial Regex AppCss();
}
