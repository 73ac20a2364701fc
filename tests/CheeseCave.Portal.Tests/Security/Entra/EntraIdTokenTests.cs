using System.Net;
using System.Security.Claims;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.ResourceManager;
using CheeseCave.Portal.Security.Entra;
using CheeseCave.Provisioning.Errors;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Client;
using Microsoft.Identity.Web;
using CheeseCave.Portal.Targets;
using CheeseCave.Portal.Tests.Infrastructure;

namespace CheeseCave.Portal.Tests.Security.Entra;

/// <summary>The TokenCredential adapter over a stand-in ITokenAcquisition: right scopes, right user, plain errors.</summary>
public sealed class EntraTokenCredentialTests
{
    private static readonly ClaimsPrincipal Olga = EntraPortalFactory.EntraUser("olga@contoso.example", "Operator");

    [Theory]
    [InlineData("https://management.azure.com//.default")] // what Azure.ResourceManager asks for
    [InlineData("https://management.azure.com/.default")]
    [InlineData("https://management.azure.com/user_impersonation")]
    public async Task Arm_scopes_become_user_impersonation_for_the_given_user(string requested)
    {
        var tokens = new FakeTokenAcquisition { AccessToken = "arm-token", ExpiresOn = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero) };
        var credential = EntraUserTokenCredential.ForArm(tokens, Olga);

        var token = await credential.GetTokenAsync(new TokenRequestContext([requested]), CancellationToken.None);

        Assert.Equal("arm-token", token.Token);
        Assert.Equal(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero), token.ExpiresOn);
        var request = Assert.Single(tokens.Requests);
        Assert.Equal(["https://management.azure.com/user_impersonation"], request.Scopes);
        Assert.Same(Olga, request.User);
    }

    [Fact]
    public async Task The_DPS_data_plane_has_its_own_scope()
    {
        var tokens = new FakeTokenAcquisition();
        var credential = EntraUserTokenCredential.ForDpsDataPlane(tokens, Olga);

        await credential.GetTokenAsync(new TokenRequestContext([CheeseCave.Provisioning.DpsService.DpsServiceClient.EntraScope]), CancellationToken.None);

        Assert.Equal(["https://azure-devices-provisioning.net/user_impersonation"], Assert.Single(tokens.Requests).Scopes);
    }

    [Theory]
    [InlineData("https://graph.microsoft.com/.default")]
    [InlineData("https://azure-devices-provisioning.net/.default")]
    [InlineData("https://management.azure.com.evil.example/.default")]
    public async Task A_token_for_another_resource_is_refused_before_asking_Entra(string requested)
    {
        var tokens = new FakeTokenAcquisition();
        var credential = EntraUserTokenCredential.ForArm(tokens, Olga);

        await Assert.ThrowsAsync<InvalidOperationException>(() => credential.GetTokenAsync(new TokenRequestContext([requested]), CancellationToken.None).AsTask());
        Assert.Empty(tokens.Requests);
    }

    [Fact]
    public async Task No_cached_account_means_sign_in_again_in_plain_words()
    {
        var tokens = new FakeTokenAcquisition { Failure = new MsalUiRequiredException(MsalError.UserNullError, "No account or login hint was passed to the AcquireTokenSilent call.") };
        var credential = EntraUserTokenCredential.ForArm(tokens, Olga);

        var error = await Assert.ThrowsAsync<ProvisioningException>(() => credential.GetTokenAsync(new TokenRequestContext(["https://management.azure.com//.default"]), CancellationToken.None).AsTask());

        Assert.Equal(401, error.Status);
        Assert.Equal("SignInRequired", error.ServiceErrorCode);
        Assert.False(error.IsTransient);
        Assert.Contains("Sign out and sign in again", error.Message, StringComparison.Ordinal);
        Assert.Contains("Azure Service Management", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Microsoft_Identity_Webs_challenge_exception_is_handled_the_same_way()
    {
        var ui = new MsalUiRequiredException("invalid_grant", "AADSTS50076: you must use multi-factor authentication.");
        var tokens = new FakeTokenAcquisition { Failure = new MicrosoftIdentityWebChallengeUserException(ui, [EntraSettings.DpsScope]) };
        var credential = EntraUserTokenCredential.ForDpsDataPlane(tokens, Olga);

        var error = await Assert.ThrowsAsync<ProvisioningException>(() => credential.GetTokenAsync(new TokenRequestContext(["https://azure-devices-provisioning.net/.default"]), CancellationToken.None).AsTask());

        Assert.Equal(ProvisioningSurface.Service, error.Surface);
        Assert.Contains("Sign out and sign in again", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_Azure_Service_Management_permission_AADSTS650057_says_what_to_add()
    {
        var tokens = new FakeTokenAcquisition { Failure = new MsalServiceException("invalid_client", "AADSTS650057: Invalid resource. The client has requested access to a resource which is not listed in the requested permissions in the client's application registration.") };
        var credential = EntraUserTokenCredential.ForArm(tokens, Olga);

        var error = await Assert.ThrowsAsync<ProvisioningException>(() => credential.GetTokenAsync(new TokenRequestContext(["https://management.azure.com//.default"]), CancellationToken.None).AsTask());

        Assert.Equal("AADSTS650057", error.ServiceErrorCode);
        Assert.Contains("does not have the Azure Service Management permission (user_impersonation)", error.Message, StringComparison.Ordinal);
        Assert.Contains("admin consent", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_out_principal_gets_no_token()
    {
        var tokens = new FakeTokenAcquisition();
        var credential = EntraUserTokenCredential.ForArm(tokens, new ClaimsPrincipal(new ClaimsIdentity()));

        var error = await Assert.ThrowsAsync<ProvisioningException>(() => credential.GetTokenAsync(new TokenRequestContext(["https://management.azure.com//.default"]), CancellationToken.None).AsTask());

        Assert.Equal(401, error.Status);
        Assert.Empty(tokens.Requests);
    }
}

/// <summary>The adapter under the real Azure.ResourceManager ArmClient, against the embedded emulator's ARM surface.</summary>
public sealed class EntraArmClientTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task ArmClient_calls_with_the_users_token_for_the_scope_Azure_Core_asks_for()
    {
        var endpoints = factory.Services.GetRequiredService<EmbeddedEmulator>().Endpoints!;
        var emulator = factory.Services.GetRequiredService<ProvisioningConnectionFactory>().GetConnection(new ClaimsPrincipal());

        // The emulator accepts only its own bearer token, so the stand-in Entra ID hands out that one.
        var tokens = new FakeTokenAcquisition { AccessToken = endpoints.BearerToken };
        var user = EntraPortalFactory.EntraUser("olga@contoso.example", "Operator");
        var options = new ArmClientOptions { Environment = emulator.ArmEnvironment, Transport = new HttpClientTransport(emulator.CreateHttpMessageHandler()) };
        options.Retry.MaxRetries = 0;
        var arm = new ArmClient(EntraUserTokenCredential.ForArm(tokens, user), endpoints.SubscriptionId, options);

        var subscription = await arm.GetDefaultSubscriptionAsync();

        Assert.Equal(endpoints.SubscriptionId, subscription.Data.SubscriptionId);
        var request = Assert.Single(tokens.Requests);
        Assert.Equal([EntraSettings.ArmScope], request.Scopes);
        Assert.Same(user, request.User);
    }
}

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

/// <summary>The real Microsoft.Identity.Web token acquisition (no stand-in), offline, with an empty token cache.</summary>
public sealed class EntraRealTokenAcquisitionTests
{
    [Fact]
    public async Task With_no_cached_account_the_wizard_gets_sign_in_again_and_the_session_is_ended()
    {
        await using var factory = new EntraPortalFactory { Target = "Azure" };
        var user = EntraPortalFactory.EntraUser("olga@contoso.example", "Operator");
        var connection = factory.Services.GetRequiredService<ProvisioningConnectionFactory>().GetConnection(user);

        var error = await Assert.ThrowsAsync<ProvisioningException>(() =>
            connection.Credential.GetTokenAsync(new TokenRequestContext(["https://management.azure.com//.default"]), CancellationToken.None).AsTask());
        Assert.Equal("SignInRequired", error.ServiceErrorCode);

        var check = factory.Services.GetRequiredService<EntraSessionCheck>();
        Assert.False(await check.HasTokenCacheAccountAsync(user, CancellationToken.None));
    }
}

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
        Assert.IsType<CheeseCave.Portal.Security.LocalAccountAuthorization>(factory.Services.GetRequiredService<CheeseCave.Portal.Security.ICallerAuthorization>());
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

/// <summary>The persistent token cache: survives a restart, honours expiry, keeps to its file.</summary>
public sealed class SqliteTokenCacheTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cheesecave-token-cache-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _time = new() { Now = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero) };

    [Fact]
    public async Task An_entry_survives_a_new_instance_on_the_same_folder()
    {
        await new SqliteTokenCache(_folder, _time).SetAsync("user-1", [1, 2, 3], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromDays(1) });

        var restarted = new SqliteTokenCache(_folder, _time);

        Assert.Equal([1, 2, 3], await restarted.GetAsync("user-1"));
        Assert.Null(await restarted.GetAsync("user-2"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, SqliteTokenCache.FileName)));
        }
    }

    [Fact]
    public async Task Absolute_and_sliding_expiry_are_honoured()
    {
        var cache = new SqliteTokenCache(_folder, _time);
        await cache.SetAsync("absolute", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });
        await cache.SetAsync("sliding", [2], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });

        _time.Advance(TimeSpan.FromMinutes(8));
        Assert.NotNull(await cache.GetAsync("sliding")); // read: slides to minute 18
        _time.Advance(TimeSpan.FromMinutes(4));

        Assert.Null(await cache.GetAsync("absolute"));
        Assert.Equal([2], await cache.GetAsync("sliding"));
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Null(await cache.GetAsync("sliding"));
    }

    [Fact]
    public async Task Overwrite_and_remove()
    {
        var cache = new SqliteTokenCache(_folder, _time);
        await cache.SetAsync("k", [1], new DistributedCacheEntryOptions());
        await cache.SetAsync("k", [9, 9], new DistributedCacheEntryOptions());
        Assert.Equal([9, 9], await cache.GetAsync("k"));

        await cache.RemoveAsync("k");
        Assert.Null(await cache.GetAsync("k"));
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public void Advance(TimeSpan by) => Now += by;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
