using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Service;

namespace CheeseCave.Emulator.Tests.Device;

/// <summary>The assigned device in the IoT Hub registry, read with a hub SAS.</summary>
public sealed class HubRegistryTests
{
    [Fact]
    public async Task The_assigned_device_is_readable_from_the_hub_registry_with_a_hub_SAS()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var device = pki.IssueDevice("brie-001");
        await env.RegisterAsync(device);

        using var hub = env.HubClient("cave-hub");
        var response = await hub.GetAsync("/devices/brie-001?api-version=2021-04-12");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await EmulatorHarness.ReadJsonAsync(response);
        Assert.Equal("brie-001", json.Str("deviceId"));
        Assert.Equal("selfSigned", json.Str("authentication", "type"));
        Assert.Equal(DeviceTestEnvironment.Sha256(device.Certificate), json.Str("authentication", "x509Thumbprint", "primaryThumbprint"));
        Assert.Equal("Disconnected", json.Str("connectionState"));
        Assert.Equal("enabled", json.Str("status"));
        Assert.False(json!["capabilities"]!["iotEdge"]!.GetValue<bool>());
        Assert.Matches("^[0-9]{18}$", json.Str("generationId"));

        var list = await EmulatorHarness.ReadJsonAsync(await hub.GetAsync("/devices?top=10&api-version=2021-04-12"));
        Assert.Equal(["brie-001"], list!.AsArray().Select(d => d!["deviceId"]!.GetValue<string>()));

        var twin = await EmulatorHarness.ReadJsonAsync(await hub.GetAsync("/twins/brie-001?api-version=2021-04-12"));
        Assert.Equal("roquefort", twin.Str("tags", "cave"));
        Assert.Equal(95, twin!["properties"]!["desired"]!["humidity"]!.GetValue<int>());

        var missing = await hub.GetAsync("/devices/nobody?api-version=2021-04-12");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.StartsWith("ErrorCode:DeviceNotFound;", (await EmulatorHarness.ReadJsonAsync(missing)).Str("Message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hub_registry_refuses_a_bad_signature_and_a_policy_without_registry_rights()
    {
        await using var env = await DeviceTestEnvironment.StartAsync();

        using var forged = env.HubClient("cave-hub", key: DeviceTestEnvironment.HubKey("someone-else"));
        var bad = await forged.GetAsync("/devices?api-version=2021-04-12");
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.StartsWith("ErrorCode:IotHubUnauthorizedAccess;", (await EmulatorHarness.ReadJsonAsync(bad)).Str("Message"), StringComparison.Ordinal);

        using var serviceOnly = env.HubClient("cave-hub", policy: "service", key: DeviceTestEnvironment.HubKey("cave-hub-svc"));
        var noRights = await serviceOnly.GetAsync("/devices?api-version=2021-04-12");
        Assert.Equal(HttpStatusCode.Unauthorized, noRights.StatusCode);
        Assert.Contains("RegistryRead", (await EmulatorHarness.ReadJsonAsync(noRights)).Str("Message"), StringComparison.Ordinal);

        using var anonymous = env.Harness.CreateClient(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/devices/x")).StatusCode);

        using var secondaryKey = env.HubClient("cave-hub", key: DeviceTestEnvironment.HubKey("cave-hub-2"));
        Assert.Equal(HttpStatusCode.OK, (await secondaryKey.GetAsync("/devices")).StatusCode);
    }
}
