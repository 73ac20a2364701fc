using System.Net;
using System.Security.Claims;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Security.Entra;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web.TokenCacheProviders.Distributed;

namespace CheeseCave.Portal.Tests.Security.Entra;

/// <summary>The portal signed in through Entra ID: host wiring, pages, endpoints and role mapping (no network).</summary>
public sealed class EntraIdHostTests(EntraPortalFactory factory) : IClassFixture<EntraPortalFactory>
{
    private readonly EntraPortalFactory _factory = factory;

    [Fact]
    public async Task Login_page_offers_sign_in_with_Microsoft_and_no_password_form()
    {
        using var client = _factory.CreatePortalClient();
        var page = await Forms.GetPageAsync(client, "/account/login?ReturnUrl=%2Fsetups");

        Assert.Contains("Sign in with Microsoft", page, StringComparison.Ordinal);
        Assert.Contains("href=\"/account/entra/sign-in?returnUrl=%2Fsetups\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("type=\"password\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("invitation link", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/setups", "/setups")]
    [InlineData("https://evil.example/steal", "/")]
    [InlineData("//evil.example", "/")]
    [InlineData("~//evil.example", "/")]
    [InlineData("~/\\evil.example", "/")]
    public async Task Sign_in_endpoint_challenges_Entra_ID_with_the_public_redirect_uri_and_a_local_return_url(string returnUrl, string expectedReturn)
    {
        using var client = _factory.CreatePortalClient();
        using var response = await client.GetAsync(new Uri("/account/entra/sign-in?returnUrl=" + Uri.EscapeDataString(returnUrl), UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal($"https://login.microsoftonline.com/{EntraPortalFactory.TenantId}/oauth2/v2.0/authorize", location.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal(EntraPortalFactory.ClientId, query["client_id"].ToString());
        Assert.Equal("https://portal.example.test/signin-oidc", query["redirect_uri"].ToString());
        Assert.Contains("openid", query["scope"].ToString(), StringComparison.Ordinal);

        // The return address rides in the protected state; only a local one survives.
        var oidc = _factory.Services.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>().Get(OpenIdConnectDefaults.AuthenticationScheme);
        var state = oidc.StateDataFormat.Unprotect(query["state"].ToString());
        Assert.Equal(expectedReturn, state!.RedirectUri);
    }

    [Fact]
    public async Task Pages_send_unauthenticated_users_to_the_portal_sign_in_page_not_straight_to_Entra()
    {
        using var client = _factory.CreatePortalClient();
        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", Forms.RedirectPath(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_app_role_opens_the_portal_and_shows_the_role()
    {
        using var client = _factory.SignedInClient(EntraPortalFactory.EntraUser("olga@contoso.example", "Operator"));
        var page = await Forms.GetPageAsync(client, "/");

        Assert.Contains("data-user=\"olga@contoso.example\"", page, StringComparison.Ordinal);
        Assert.Matches("class=\"cc-user-role\"[^>]*>Operator</span>", page);
    }

    [Fact]
    public async Task A_user_without_an_app_role_gets_only_a_page_naming_the_role_to_ask_for()
    {
        using var client = _factory.SignedInClient(EntraPortalFactory.EntraUser("nora@contoso.example"));
        using var home = await client.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.StartsWith("/account/access-denied", Forms.RedirectPath(home), StringComparison.Ordinal);

        var denied = await Forms.GetPageAsync(client, "/account/access-denied");
        Assert.Contains("data-entra-role-hint=\"none\"", denied, StringComparison.Ordinal);
        Assert.Contains("assign you the <strong>Viewer</strong> app role", denied, StringComparison.Ordinal);

        using var setups = await client.GetAsync(new Uri("/setups", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, setups.StatusCode);
    }

    [Fact]
    public async Task Unknown_app_role_values_grant_nothing()
    {
        // Values are case-sensitive; "administrator" or "Admin" are not the app role values the portal documents.
        using var client = _factory.SignedInClient(EntraPortalFactory.EntraUser("eve@contoso.example", "administrator", "Admin"));
        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));
        Assert.StartsWith("/account/access-denied", Forms.RedirectPath(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Local_account_pages_are_off_and_no_setup_link_is_printed()
    {
        Assert.Empty(_factory.SetupLinks.Links);

        using var anonymous = _factory.CreatePortalClient();
        var setup = await Forms.GetPageAsync(anonymous, "/setup/any-token");
        Assert.Contains("Setup links are not used", setup, StringComparison.Ordinal);
        Assert.DoesNotContain("type=\"password\"", setup, StringComparison.Ordinal);
        var invite = await Forms.GetPageAsync(anonymous, "/invite/any-token");
        Assert.Contains("Invitations are not used", invite, StringComparison.Ordinal);

        using var admin = _factory.SignedInClient(EntraPortalFactory.EntraUser("ada@contoso.example", "Administrator"));
        var home = await Forms.GetPageAsync(admin, "/");
        Assert.DoesNotContain("href=\"admin/users\"", home, StringComparison.Ordinal);
        var users = await Forms.GetPageAsync(admin, "/admin/users");
        Assert.Contains("Users are managed in Entra ID", users, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_out_needs_antiforgery_and_ends_the_portal_and_Entra_sessions()
    {
        using var client = _factory.SignedInClient(EntraPortalFactory.EntraUser("vic@contoso.example", "Viewer"));

        using (var forged = new FormUrlEncodedContent(new Dictionary<string, string>()))
        using (var refused = await client.PostAsync(new Uri("/account/logout", UriKind.Relative), forged))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        var token = await Forms.AntiforgeryTokenAsync(client, "/");
        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token });
        using var response = await client.PostAsync(new Uri("/account/logout", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        // The page holding the sign-out form must allow that form's redirect to Entra ID (CSP form-action).
        using var home = await client.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Contains("form-action 'self' https://login.microsoftonline.com;", home.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        var location = response.Headers.Location!;
        Assert.Equal($"https://login.microsoftonline.com/{EntraPortalFactory.TenantId}/oauth2/v2.0/logout", location.GetLeftPart(UriPartial.Path));
        Assert.Equal("https://portal.example.test/signout-callback-oidc", QueryHelpers.ParseQuery(location.Query)["post_logout_redirect_uri"].ToString());
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("CheeseCave.Session=;", StringComparison.Ordinal));

        var signOuts = await new PortalFactoryDb(_factory).CountAsync(CheeseCave.Portal.Persistence.AuditActions.SignOut, "vic@contoso.example");
        Assert.Equal(1, signOuts);
    }

    [Fact]
    public async Task Caller_authorization_reads_the_app_roles_with_the_role_order()
    {
        var authorization = _factory.Services.GetRequiredService<ICallerAuthorization>();
        Assert.IsType<EntraCallerAuthorization>(Assert.IsType<TokenScopedAuthorization>(authorization).Inner); // wrapped by the API token scope cap

        var approver = EntraPortalFactory.EntraUser("amy@contoso.example", "Approver");
        Assert.NotNull(await authorization.RequireAsync(approver, PortalRoles.Viewer));
        Assert.NotNull(await authorization.RequireAsync(approver, PortalRoles.Operator));
        var actor = await authorization.RequireAsync(approver, PortalRoles.Approver);
        Assert.Equal("amy@contoso.example", actor!.Name);
        Assert.StartsWith("entra:", actor.Id, StringComparison.Ordinal);
        Assert.Null(await authorization.RequireAsync(approver, PortalRoles.Administrator));

        Assert.Null(await authorization.RequireAsync(EntraPortalFactory.EntraUser("nora@contoso.example"), PortalRoles.Viewer));
        Assert.Null(await authorization.RequireAsync(new ClaimsPrincipal(new ClaimsIdentity([new Claim("roles", "Administrator")])), PortalRoles.Viewer));
    }

    [Fact]
    public async Task Open_circuits_are_revalidated_by_the_Entra_provider()
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var provider = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider>();
        Assert.Equal("EntraRevalidatingAuthenticationStateProvider", provider.GetType().Name);
    }

    [Fact]
    public void Token_cache_is_persistent_and_encrypted()
    {
        Assert.IsType<SqliteTokenCache>(_factory.Services.GetRequiredService<IDistributedCache>());
        Assert.True(_factory.Services.GetRequiredService<IOptions<MsalDistributedTokenCacheAdapterOptions>>().Value.Encrypt);
        Assert.True(File.Exists(Path.Combine(_factory.DataDirectory, SqliteTokenCache.FileName)));
    }
}
