using System.Net;
using Azure.Core;
using CheeseCave.Portal.Security.Entra;
using CheeseCave.Portal.Targets;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Client;
using Microsoft.Identity.Web;

namespace CheeseCave.Portal.Tests.Security.Entra;

/// <summary>Entra ID with Target Azure: every connection acts as the signed-in user.</summary>
public sealed class EntraAzureTargetTests(EntraAzureTargetTests.Host host) : IClassFixture<EntraAzureTargetTests.Host>
{
    private readonly FakeTokenAcquisition _tokens = host.Reset();
    private readonly EntraPortalFactory _factory = host.Factory;

    /// <summary>One portal with Target Azure and the stand-in token acquisition, reset before each test.</summary>
    public sealed class Host : IAsyncLifetime
    {
        private readonly FakeTokenAcquisition _tokens = new();

        public EntraPortalFactory Factory { get; private set; } = null!;

        public FakeTokenAcquisition Reset()
        {
            _tokens.Failure = null;
            _tokens.Clear();
            return _tokens;
        }

        public Task InitializeAsync()
        {
            Factory = new EntraPortalFactory { Target = "Azure", TokenAcquisition = _tokens };
            _ = Factory.Services;
            return Task.CompletedTask;
        }

        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    [Fact]
    public async Task Connections_and_DPS_clients_use_the_callers_own_tokens()
    {
        var provisioning = _factory.Services.GetRequiredService<ProvisioningConnectionFactory>();
        var olga = EntraPortalFactory.EntraUser("olga@contoso.example", "Operator");
        var ada = EntraPortalFactory.EntraUser("ada@contoso.example", "Administrator");

        var connection = provisioning.GetConnection(olga);
        Assert.Equal(CheeseCave.Provisioning.Configuration.ProvisioningTarget.Azure, connection.Target);
        Assert.IsType<EntraUserTokenCredential>(connection.Credential);
        await connection.Credential.GetTokenAsync(new TokenRequestContext(["https://management.azure.com//.default"]), CancellationToken.None);
        await provisioning.GetConnection(ada).Credential.GetTokenAsync(new TokenRequestContext(["https://management.azure.com//.default"]), CancellationToken.None);

        Assert.Equal([olga, ada], _tokens.Requests.Select(r => r.User));
        Assert.All(_tokens.Requests, r => Assert.Equal([EntraSettings.ArmScope], r.Scopes));

        using var dps = provisioning.CreateDpsServiceClient(olga, $"HostName=cave-dps.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey={Convert.ToBase64String(new byte[32])}");
        Assert.Equal("cave-dps.azure-devices-provisioning.net", dps.HostName);
    }

    [Fact]
    public async Task A_session_whose_account_is_not_in_the_token_cache_is_ended()
    {
        // The stand-in answers as MSAL does after a restart with an empty cache.
        _tokens.Failure = new MsalUiRequiredException(MsalError.UserNullError, "No account or login hint was passed to the AcquireTokenSilent call.");
        using var client = _factory.SignedInClient(EntraPortalFactory.EntraUser("vic@contoso.example", "Viewer"));

        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", Forms.RedirectPath(response), StringComparison.Ordinal);
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("CheeseCave.Session=;", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_session_with_a_cached_account_stays()
    {
        using var client = _factory.SignedInClient(EntraPortalFactory.EntraUser("vic@contoso.example", "Viewer"));

        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([EntraSettings.ArmScope], Assert.Single(_tokens.Requests).Scopes);
    }

    [Fact]
    public async Task Consent_or_MFA_problems_do_not_end_the_session()
    {
        // Only "no account" ends it; anything else is reported by the Azure call that needs the token.
        _tokens.Failure = new MsalUiRequiredException("invalid_grant", "AADSTS50076: multi-factor authentication required.");
        using var client = _factory.SignedInClient(EntraPortalFactory.EntraUser("vic@contoso.example", "Viewer"));

        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_challenge_for_another_reason_keeps_the_session_instead_of_failing_every_request()
    {
        // Microsoft.Identity.Web wraps "the user must interact" in an exception that is not an MsalException.
        _tokens.Failure = new MicrosoftIdentityWebChallengeUserException(
            new MsalUiRequiredException("invalid_grant", "AADSTS50173: the provided grant has expired due to it being revoked."), [EntraSettings.ArmScope]);
        using var client = _factory.SignedInClient(EntraPortalFactory.EntraUser("vic@contoso.example", "Viewer"));

        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_sign_in_request_asks_for_the_Azure_Service_Management_permission()
    {
        using var client = _factory.CreatePortalClient();
        using var response = await client.GetAsync(new Uri("/account/entra/sign-in", UriKind.Relative));

        var scope = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(response.Headers.Location!.Query)["scope"].ToString().Split(' ');
        Assert.Contains(EntraSettings.ArmScope, scope);
        Assert.Contains("offline_access", scope);
    }
}
