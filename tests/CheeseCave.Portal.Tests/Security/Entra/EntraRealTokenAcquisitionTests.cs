using Azure.Core;
using CheeseCave.Portal.Security.Entra;
using CheeseCave.Portal.Targets;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Provisioning.Errors;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Security.Entra;

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
