using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Portal.Targets;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Targets;

public sealed class EmbeddedEmulatorTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_portal_starts_the_emulator_in_its_data_folder_and_serves_its_trust_bundle()
    {
        using var client = factory.CreateClient();
        var emulator = factory.Services.GetRequiredService<EmbeddedEmulator>();
        var endpoints = emulator.Endpoints;
        Assert.NotNull(endpoints);
        Assert.StartsWith(Path.Combine(factory.DataDirectory, "emulator"), endpoints.TrustBundle, StringComparison.Ordinal);
        Assert.Equal(endpoints, EmulatorEndpoints.Read(Path.Combine(factory.DataDirectory, "emulator")));
        Assert.StartsWith("https://localhost:", endpoints.ArmEndpoint, StringComparison.Ordinal);

        using var bundle = await client.GetAsync(new Uri("/emulator/trust-bundle.pem", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
        var pem = await bundle.Content.ReadAsStringAsync();
        var ca = X509Certificate2.CreateFromPem(pem);

        // The emulator answers over real TLS with a certificate issued by that CA, to a client given the bearer token.
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return certificate is not null && chain.Build(certificate);
            },
        };
        using var arm = new HttpClient(handler) { BaseAddress = new Uri(endpoints.ArmEndpoint) };
        arm.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", endpoints.BearerToken);
        using var response = await arm.GetAsync(new Uri($"/subscriptions/{endpoints.SubscriptionId}/resourceGroups/{endpoints.ResourceGroup}?api-version=2022-09-01", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
