using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Tests.Service;

public sealed class ServicePersistenceTests
{
    [Fact]
    public async Task Enrollments_and_their_etags_survive_a_restart_from_the_same_folder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "cheesecave-svc-test-" + Guid.NewGuid().ToString("N"));
        var key = TestSas.NewKey();
        var policies = new List<AccessPolicy> { new(TestDps.Owner, key, TestSas.NewKey(), TestDps.AllRights) };
        try
        {
            string etag;
            await using (var first = await EmulatorHarness.StartAsync(o => { o.InMemory = false; o.DataDirectory = folder; }))
            {
                var store = first.Server.Context.Store;
                await store.WriteAsync(tx => tx.Put(store.ProvisioningServices, ArmKeys.ProvisioningService("keptdps"),
                    new ProvisioningServiceEntity(first.SubscriptionId, "cheesecave-rg", "keptdps", "eastus", [], "S1", 1, "0ne00000002", "Hashed", [], policies, "AAAAAAAAAAA=", DateTimeOffset.UtcNow)));
                etag = (await PutAsync(first, key))!["etag"]!.GetValue<string>();
            }

            await using var second = await EmulatorHarness.StartAsync(o => { o.InMemory = false; o.DataDirectory = folder; });
            using var client = second.CreateClient(null);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/enrollmentGroups/kept?api-version=2021-10-01");
            request.Headers.TryAddWithoutValidation("Authorization", TestSas.Token(second.Server.Context.HttpsHost, TestDps.Owner, key, DateTimeOffset.UtcNow.AddHours(1)));
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await EmulatorHarness.ReadJsonAsync(response);
            Assert.Equal(etag, body!["etag"]!.GetValue<string>());
            Assert.Equal("north", body["initialTwin"]!["tags"]!["cellar"]!.GetValue<string>());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<JsonNode?> PutAsync(EmulatorHarness harness, string key)
    {
        using var client = harness.CreateClient(null);
        using var request = new HttpRequestMessage(HttpMethod.Put, "/enrollmentGroups/kept?api-version=2021-10-01")
        {
            Content = EmulatorHarness.Json(new JsonObject
            {
                ["attestation"] = new JsonObject { ["type"] = "symmetricKey" },
                ["initialTwin"] = new JsonObject { ["tags"] = new JsonObject { ["cellar"] = "north" } },
            }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", TestSas.Token(harness.Server.Context.HttpsHost, TestDps.Owner, key, DateTimeOffset.UtcNow.AddHours(1)));
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await EmulatorHarness.ReadJsonAsync(response);
    }
}
