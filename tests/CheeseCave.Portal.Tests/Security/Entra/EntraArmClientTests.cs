using System.Security.Claims;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.ResourceManager;
using CheeseCave.Portal.Security.Entra;
using CheeseCave.Portal.Targets;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Security.Entra;

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
