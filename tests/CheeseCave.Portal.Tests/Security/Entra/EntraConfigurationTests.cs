using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Security.Entra;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Web;

namespace CheeseCave.Portal.Tests.Security.Entra;

/// <summary>Start-up refuses a half-configured Entra ID with one sentence naming the setting.</summary>
public sealed class EntraConfigurationTests
{
    public static TheoryData<string, string?, string> Broken => new()
    {
        { "AzureAd:Instance", null, "AzureAd:Instance is missing" },
        { "AzureAd:Instance", "http://login.microsoftonline.com/", "AzureAd:Instance 'http://login.microsoftonline.com/' is not an https address" },
        { "AzureAd:TenantId", null, "AzureAd:TenantId is missing" },
        { "AzureAd:TenantId", "common", "AzureAd:TenantId 'common' admits accounts from any directory" },
        { "AzureAd:ClientId", null, "AzureAd:ClientId is missing" },
        { "AzureAd:ClientId", "my-app", "AzureAd:ClientId 'my-app' is not a GUID" },
        { "AzureAd:ClientSecret", null, "neither AzureAd:ClientSecret nor AzureAd:ClientCertificates is set" },
        { "AzureAd:CallbackPath", null, "AzureAd:CallbackPath is missing" },
        { "AzureAd:CallbackPath", "signin-oidc", "AzureAd:CallbackPath 'signin-oidc' must be a path" },
        { "CheeseCave:PublicUrl", null, "Entra ID sign-in needs CheeseCave:PublicUrl" },
        { "CheeseCave:PublicUrl", "http://portal.example.test", "CheeseCave:PublicUrl 'http://portal.example.test' must be an https address" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task The_host_does_not_start_and_names_the_setting(string key, string? value, string expected)
    {
        await using var factory = new EntraPortalFactory();
        factory.Settings[key] = value;

        var thrown = Record.Exception(() => factory.Services);

        var error = FindConfigurationError(thrown);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_certificate_instead_of_a_secret_and_http_localhost_are_accepted()
    {
        await using var factory = new EntraPortalFactory();
        factory.Settings["AzureAd:ClientSecret"] = null;
        factory.Settings["AzureAd:ClientCertificates:0:SourceType"] = "Path";
        factory.Settings["AzureAd:ClientCertificates:0:CertificateDiskPath"] = "/etc/cheesecave/portal.pfx";
        factory.Settings["CheeseCave:PublicUrl"] = "http://localhost:5080";

        Assert.True(factory.Services.GetRequiredService<PortalSignIn>().IsEntra);
    }

    [Fact]
    public async Task Without_an_AzureAd_section_local_accounts_stay_the_default()
    {
        await using var factory = new PortalFactory();

        Assert.False(factory.Services.GetRequiredService<PortalSignIn>().IsEntra);
        // Wrapped by the API token scope cap, which passes every non-token caller to it.
        Assert.IsType<CheeseCave.Portal.Security.LocalAccountAuthorization>(Assert.IsType<CheeseCave.Portal.Security.TokenScopedAuthorization>(factory.Services.GetRequiredService<CheeseCave.Portal.Security.ICallerAuthorization>()).Inner);
        Assert.Null(factory.Services.GetService<ITokenAcquisition>());
        using var client = factory.CreatePortalClient();
        var login = await Forms.GetPageAsync(client, "/account/login");
        Assert.Contains("type=\"password\"", login, StringComparison.Ordinal);
        Assert.DoesNotContain("Sign in with Microsoft", login, StringComparison.Ordinal);
    }

    private static PortalConfigurationException FindConfigurationError(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is PortalConfigurationException configuration)
            {
                return configuration;
            }
        }

        throw new Xunit.Sdk.XunitException($"Expected a PortalConfigurationException, got: {exception}");
    }
}
