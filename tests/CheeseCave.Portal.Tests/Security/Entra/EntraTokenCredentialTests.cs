using System.Security.Claims;
using Azure.Core;
using CheeseCave.Portal.Security.Entra;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.Errors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Client;
using Microsoft.Identity.Web;

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
