using System.Net;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator.Tests.Hosting;

public sealed class EmulatorServerTests
{
    [Fact]
    public async Task Starts_on_loopback_writes_endpoints_json_and_serves_the_seeded_resource_group()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        var endpoints = EmulatorEndpoints.Read(emulator.Server.DataDirectory);
        Assert.Equal(emulator.Server.Endpoints, endpoints);
        Assert.StartsWith("https://localhost:", endpoints.ArmEndpoint);
        Assert.True(File.Exists(endpoints.TrustBundle));

        var response = await emulator.Arm.GetAsync($"{emulator.ResourceGroupPath}?api-version=2022-09-01");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await EmulatorHarness.ReadJsonAsync(response);
        Assert.Equal("cheesecave-rg", body!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task ARM_calls_without_the_bearer_token_are_refused()
    {
        await using var emulator = await EmulatorHarness.StartAsync();
        using var anonymous = emulator.CreateClient(null);
        var response = await anonymous.GetAsync($"/subscriptions/{emulator.SubscriptionId}?api-version=2022-12-01");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await EmulatorHarness.ReadJsonAsync(response);
        Assert.Equal("AuthenticationFailed", body!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task State_survives_a_restart_from_the_same_folder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "cheesecave-emu-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var first = await EmulatorHarness.StartAsync(o => { o.InMemory = false; o.DataDirectory = folder; }))
            {
                var put = await first.Arm.PutAsync($"/subscriptions/{first.SubscriptionId}/resourcegroups/kept-rg?api-version=2022-09-01",
                    EmulatorHarness.Json(new System.Text.Json.Nodes.JsonObject { ["location"] = "West Europe" }));
                Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            }

            await using var second = await EmulatorHarness.StartAsync(o => { o.InMemory = false; o.DataDirectory = folder; });
            var get = await second.Arm.GetAsync($"/subscriptions/{second.SubscriptionId}/resourceGroups/KEPT-RG?api-version=2022-09-01");
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("westeurope", (await EmulatorHarness.ReadJsonAsync(get))!["location"]!.GetValue<string>());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
