using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.ResourceManager;
using Azure.ResourceManager.Resources;
using Azure.ResourceManager.Resources.Models;

namespace CheeseCave.Emulator.Tests.Arm;

/// <summary>The real Azure.ResourceManager 1.7.0 client against the emulator: its LRO engine must finish our answers.</summary>
public sealed class ArmClientTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private sealed class EmulatorToken(string token) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(token, DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    /// <summary>Records what the SDK sends, to show which requests its LRO engine made.</summary>
    private sealed class Recorder(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public List<string> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Requests) Requests.Add($"{request.Method} {request.RequestUri!.PathAndQuery}");
            return base.SendAsync(request, cancellationToken);
        }
    }

    private static HttpClientHandler TrustOnly(X509Certificate2 ca) => new()
    {
        ServerCertificateCustomValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate);
        },
    };

    private (ArmClient Client, Recorder Recorder) CreateClient()
    {
        var recorder = new Recorder(TrustOnly(fixture.Emulator.Server.Context.Tls.CaCertificate));
        var options = new ArmClientOptions
        {
            Environment = new ArmEnvironment(new Uri(fixture.Emulator.Server.Endpoints.ArmEndpoint), "https://management.azure.com/"),
            Transport = new HttpClientTransport(recorder),
        };
        options.Retry.MaxRetries = 0;
        return (new ArmClient(new EmulatorToken(fixture.Emulator.Server.Endpoints.BearerToken), fixture.Emulator.SubscriptionId, options), recorder);
    }

    [Fact]
    public async Task GenericResources_CreateOrUpdate_WaitUntil_Completed_finishes_through_the_async_operation()
    {
        var (arm, recorder) = CreateClient();
        var name = ArmCalls.Unique("dps");
        var id = new ResourceIdentifier($"{fixture.Emulator.ResourceGroupPath}/providers/Microsoft.Devices/provisioningServices/{name}");
        var data = new GenericResourceData(AzureLocation.EastUS)
        {
            Sku = new ResourcesSku { Name = "S1", Capacity = 1 },
            Properties = BinaryData.FromObjectAsJson(new { allocationPolicy = "Hashed" }),
        };

        var operation = await arm.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Completed, id, data);

        Assert.True(operation.HasCompleted);
        var sent = string.Join("\n", recorder.Requests);
        var put = recorder.Requests.FindIndex(r => r.StartsWith($"PUT {id}?api-version=2022-02-05", StringComparison.Ordinal));
        Assert.True(put >= 0, sent);
        Assert.True(recorder.Requests.Count >= put + 3, sent);
        Assert.Matches("^GET /subscriptions/[^/]+/providers/Microsoft.Devices/locations/eastus/provisioningServiceOperationResults/[^?]+\\?api-version=2022-02-05&asyncinfo$", recorder.Requests[put + 1]);
        Assert.StartsWith($"GET {id}?api-version=2022-02-05", recorder.Requests[put + 2], StringComparison.Ordinal);

        var resource = operation.Value.Data;
        Assert.Equal(name, resource.Name);
        Assert.Equal("S1", resource.Sku.Name);
        using (var properties = System.Text.Json.JsonDocument.Parse(resource.Properties))
        {
            Assert.Equal("Succeeded", properties.RootElement.GetProperty("provisioningState").GetString());
            Assert.StartsWith("0ne", properties.RootElement.GetProperty("idScope").GetString(), StringComparison.Ordinal);
        }

        // Update (201 + Azure-AsyncOperation) and delete (202 + Azure-AsyncOperation + Location) finish through their operations.
        data.Tags["env"] = "test";
        var update = await arm.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Completed, id, data);
        Assert.Equal("test", update.Value.Data.Tags["env"]);
        Assert.True((await arm.GetGenericResources().ExistsAsync(id)).Value);
        Assert.Equal("Succeeded", System.Text.Json.JsonDocument.Parse(update.Value.Data.Properties).RootElement.GetProperty("provisioningState").GetString());
        var delete = await arm.GetGenericResource(id).DeleteAsync(WaitUntil.Completed);
        Assert.True(delete.HasCompleted);
        Assert.Contains(recorder.Requests, r => r.StartsWith("GET /subscriptions/", StringComparison.Ordinal) && r.Contains("provisioningServiceOperationResults", StringComparison.Ordinal) && r != recorder.Requests[put + 1]);
        Assert.False((await arm.GetGenericResources().ExistsAsync(id)).Value);
        var gone = await Assert.ThrowsAsync<RequestFailedException>(() => arm.GetGenericResource(id).GetAsync());
        Assert.Equal(404, gone.Status);
        Assert.Equal("ResourceNotFound", gone.ErrorCode);
    }
}
