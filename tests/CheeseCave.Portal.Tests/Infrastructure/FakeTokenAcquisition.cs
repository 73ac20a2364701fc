using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http;
using Microsoft.Identity.Client;
using Microsoft.Identity.Web;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>
/// A test double of Microsoft.Identity.Web's ITokenAcquisition (Microsoft's interface, not ours): records which
/// scopes were asked for whom and answers with a token or with the exception the test sets.
/// </summary>
public sealed class FakeTokenAcquisition : ITokenAcquisition
{
    private readonly List<(string[] Scopes, ClaimsPrincipal? User)> _requests = [];

    public string AccessToken { get; set; } = "fake-access-token";

    public DateTimeOffset ExpiresOn { get; set; } = DateTimeOffset.UtcNow.AddHours(1);

    public Exception? Failure { get; set; }

    public void Clear()
    {
        lock (_requests)
        {
            _requests.Clear();
        }
    }

    public IReadOnlyList<(string[] Scopes, ClaimsPrincipal? User)> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public Task<AuthenticationResult> GetAuthenticationResultForUserAsync(IEnumerable<string> scopes, string? authenticationScheme, string? tenantId = null, string? userFlow = null, ClaimsPrincipal? user = null, TokenAcquisitionOptions? tokenAcquisitionOptions = null)
    {
        var list = scopes.ToArray();
        lock (_requests)
        {
            _requests.Add((list, user));
        }

        if (Failure is not null)
        {
            return Task.FromException<AuthenticationResult>(Failure);
        }

        return Task.FromResult(new AuthenticationResult(AccessToken, false, "unique-id", ExpiresOn, ExpiresOn, EntraPortalFactory.TenantId, null, null, list, Guid.NewGuid()));
    }

    public Task<AuthenticationResult> GetAuthenticationResultForUserAsync(IEnumerable<string> scopes, string? tenantId = null, string? userFlow = null, ClaimsPrincipal? user = null, TokenAcquisitionOptions? tokenAcquisitionOptions = null) =>
        GetAuthenticationResultForUserAsync(scopes, null, tenantId, userFlow, user, tokenAcquisitionOptions);

    public async Task<string> GetAccessTokenForUserAsync(IEnumerable<string> scopes, string? authenticationScheme, string? tenantId = null, string? userFlow = null, ClaimsPrincipal? user = null, TokenAcquisitionOptions? tokenAcquisitionOptions = null) =>
        (await GetAuthenticationResultForUserAsync(scopes, authenticationScheme, tenantId, userFlow, user, tokenAcquisitionOptions)).AccessToken;

    public Task<string> GetAccessTokenForUserAsync(IEnumerable<string> scopes, string? tenantId = null, string? userFlow = null, ClaimsPrincipal? user = null, TokenAcquisitionOptions? tokenAcquisitionOptions = null) =>
        GetAccessTokenForUserAsync(scopes, null, tenantId, userFlow, user, tokenAcquisitionOptions);

    // The portal never acquires app-only tokens: any call here is a bug the test should see.
    public Task<string> GetAccessTokenForAppAsync(string scope, string? authenticationScheme, string? tenant = null, TokenAcquisitionOptions? tokenAcquisitionOptions = null) =>
        throw new InvalidOperationException("The portal must not acquire app-only tokens.");

    public Task<string> GetAccessTokenForAppAsync(string scope, string? tenant = null, TokenAcquisitionOptions? tokenAcquisitionOptions = null) =>
        throw new InvalidOperationException("The portal must not acquire app-only tokens.");

    public Task<AuthenticationResult> GetAuthenticationResultForAppAsync(string scope, string? authenticationScheme, string? tenant = null, TokenAcquisitionOptions? tokenAcquisitionOptions = null) =>
        throw new InvalidOperationException("The portal must not acquire app-only tokens.");

    public Task<AuthenticationResult> GetAuthenticationResultForAppAsync(string scope, string? tenant = null, TokenAcquisitionOptions? tokenAcquisitionOptions = null) =>
        throw new InvalidOperationException("The portal must not acquire app-only tokens.");

    public void ReplyForbiddenWithWwwAuthenticateHeader(IEnumerable<string> scopes, MsalUiRequiredException msalServiceException, HttpResponse? httpResponse = null) =>
        throw new NotSupportedException("Web API only.");

    public void ReplyForbiddenWithWwwAuthenticateHeader(IEnumerable<string> scopes, MsalUiRequiredException msalServiceException, string? authenticationScheme, HttpResponse? httpResponse = null) =>
        throw new NotSupportedException("Web API only.");

    public Task ReplyForbiddenWithWwwAuthenticateHeaderAsync(IEnumerable<string> scopes, MsalUiRequiredException msalServiceException, HttpResponse? httpResponse = null) =>
        throw new NotSupportedException("Web API only.");

    public string GetEffectiveAuthenticationScheme(string? authenticationScheme) => authenticationScheme ?? OpenIdConnectDefaults.AuthenticationScheme;
}
