using System.Security.Claims;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Security.Entra;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Web;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>
/// The portal configured for Entra ID with made-up but well-formed app registration values. Nothing reaches the
/// network: the OpenID Connect metadata is a local stand-in (the real endpoints' addresses, so redirects can be
/// asserted without following them), and tests that need tokens swap Microsoft's ITokenAcquisition for a double.
/// </summary>
public sealed class EntraPortalFactory : WebApplicationFactory<Program>
{
    public const string TenantId = "5b2c1f0e-8d4a-4c3b-9e6f-1a2b3c4d5e6f";
    public const string ClientId = "0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70";
    public const string PublicUrl = "https://portal.example.test";

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "cheesecave-entra-test-" + Guid.NewGuid().ToString("N"));

    /// <summary>Settings to add or override (a null value removes the key), applied after the valid defaults.</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    public string Target { get; init; } = "Emulator";

    /// <summary>Replaces Microsoft.Identity.Web's token acquisition when set.</summary>
    public ITokenAcquisition? TokenAcquisition { get; init; }

    public CapturingSetupTokenSink SetupLinks { get; } = new();

    public static Dictionary<string, string?> ValidAzureAd() => new()
    {
        ["AzureAd:Instance"] = "https://login.microsoftonline.com/",
        ["AzureAd:TenantId"] = TenantId,
        ["AzureAd:ClientId"] = ClientId,
        ["AzureAd:ClientSecret"] = "test-secret-not-a-real-one",
        ["AzureAd:CallbackPath"] = "/signin-oidc",
        ["AzureAd:SignedOutCallbackPath"] = "/signout-callback-oidc",
        ["CheeseCave:PublicUrl"] = PublicUrl,
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("CheeseCave:DataDirectory", DataDirectory);
        builder.UseSetting("CheeseCave:Emulator:HttpsPort", "0");
        builder.UseSetting("CheeseCave:Emulator:MqttPort", "0");
        builder.UseSetting("CheeseCave:Target", Target);
        var settings = ValidAzureAd();
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        foreach (var (key, value) in settings)
        {
            if (value is not null)
            {
                builder.UseSetting(key, value);
            }
        }

        builder.ConfigureTestServices(services =>
        {
            services.Replace(ServiceDescriptor.Singleton<ISetupTokenSink>(SetupLinks));
            services.PostConfigure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme, options =>
            {
                // Stand-in metadata with Entra ID's real endpoint addresses: no discovery request is made.
                var authority = $"https://login.microsoftonline.com/{TenantId}";
                options.Configuration = new OpenIdConnectConfiguration
                {
                    Issuer = $"{authority}/v2.0",
                    AuthorizationEndpoint = $"{authority}/oauth2/v2.0/authorize",
                    TokenEndpoint = $"{authority}/oauth2/v2.0/token",
                    EndSessionEndpoint = $"{authority}/oauth2/v2.0/logout",
                };
                options.ConfigurationManager = new StaticConfigurationManager<OpenIdConnectConfiguration>(options.Configuration);
            });
            if (TokenAcquisition is not null)
            {
                services.RemoveAll<ITokenAcquisition>();
                services.AddSingleton(TokenAcquisition);
            }
        });
    }

    public HttpClient CreatePortalClient() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost") });

    /// <summary>
    /// A client carrying the session cookie the portal issues after an Entra ID sign-in: the principal goes through
    /// the same normalisation as the OpenID Connect token-validated event and is sealed with the host's own cookie
    /// ticket format (its Data Protection keys), so the portal reads it exactly like a real session.
    /// </summary>
    public HttpClient SignedInClient(ClaimsPrincipal principal)
    {
        var options = Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(CookieAuthenticationDefaults.AuthenticationScheme);
        var ticket = new AuthenticationTicket(principal, new AuthenticationProperties { IssuedUtc = DateTimeOffset.UtcNow, ExpiresUtc = DateTimeOffset.UtcNow.AddHours(1) }, CookieAuthenticationDefaults.AuthenticationScheme);
        var client = CreatePortalClient();
        client.DefaultRequestHeaders.Add("Cookie", $"{options.Cookie.Name}={options.TicketDataFormat.Protect(ticket)}");
        return client;
    }

    /// <summary>An Entra ID user as the id token's claims describe them, after the portal's normalisation.</summary>
    public static ClaimsPrincipal EntraUser(string name, params string[] appRoles)
    {
        var identity = new ClaimsIdentity(
            [
                new Claim("oid", Guid.NewGuid().ToString()),
                new Claim("tid", TenantId),
                new Claim("preferred_username", name),
                new Claim("name", name),
                .. appRoles.Select(r => new Claim("roles", r)),
            ],
            "AuthenticationTypes.Federation", "preferred_username", "roles");
        EntraRoles.Normalize(identity);
        return new ClaimsPrincipal(identity);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        await TestFolders.DeleteAsync(DataDirectory);
    }
}
