using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Tests.Device;

namespace CheeseCave.Emulator.Tests.Hub;

/// <summary>Who may connect to a hub over MQTT: the registry decides, as in IoT Hub; refusals get CONNACK "not authorized".</summary>
public sealed class HubDeviceAuthenticationTests
{
    [Fact]
    public async Task An_unknown_device_is_not_authorized()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await HubTestKit.ProvisionAsync(env, pki, "cave-100");
        await AssertRefusedAsync(() => HubMqttDevice.ConnectAsync(env, pki.IssueDevice("ghost-100")));
    }

    [Fact]
    public async Task A_disabled_device_is_not_authorized_and_connects_again_once_enabled()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        var identity = await HubTestKit.ProvisionAsync(env, pki, "cave-101");
        using var service = env.HubClient("cave-hub");
        await SetStatusAsync(service, "cave-101", "disabled");
        await AssertRefusedAsync(() => HubMqttDevice.ConnectAsync(env, identity));

        await SetStatusAsync(service, "cave-101", "enabled");
        await using var device = await HubMqttDevice.ConnectAsync(env, identity);
        Assert.True(device.IsConnected);
    }

    [Fact]
    public async Task Another_certificate_with_the_right_CN_is_not_authorized()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await HubTestKit.ProvisionAsync(env, pki, "cave-102");
        await AssertRefusedAsync(() => HubMqttDevice.ConnectAsync(env, pki.IssueDevice("cave-102")));
    }

    [Fact]
    public async Task A_certificate_whose_CN_is_not_the_device_id_is_not_authorized()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        var first = await HubTestKit.ProvisionAsync(env, pki, "cave-103");
        await HubTestKit.ProvisionAsync(env, pki, "cave-104");
        await AssertRefusedAsync(() => HubMqttDevice.ConnectAsync(env, first, deviceId: "cave-104"));
    }

    [Fact]
    public async Task A_CA_authenticated_device_connects_with_a_chain_to_the_verified_DPS_CA_and_a_stranger_does_not()
    {
        using var pki = new TestPki();
        using var stranger = new TestPki("Stranger");
        await using var env = await DeviceTestEnvironment.StartAsync();
        await HubTestKit.ProvisionAsync(env, pki, "cave-105");
        using var service = env.HubClient("cave-hub");
        var (created, body, _) = await HubTestKit.SendAsync(service, HttpMethod.Put, "/devices/ca-106",
            new JsonObject { ["deviceId"] = "ca-106", ["authentication"] = new JsonObject { ["type"] = "certificateAuthority" } });
        Assert.True(created == HttpStatusCode.OK, body?.ToJsonString());

        await using var device = await HubMqttDevice.ConnectAsync(env, pki.IssueDevice("ca-106"));
        Assert.True(device.IsConnected);
        await AssertRefusedAsync(() => HubMqttDevice.ConnectAsync(env, stranger.IssueDevice("ca-106")));
    }

    private static async Task SetStatusAsync(HttpClient service, string deviceId, string status)
    {
        var (_, device, _) = await HubTestKit.SendAsync(service, HttpMethod.Get, $"/devices/{deviceId}");
        device!["status"] = status;
        var (code, answer, _) = await HubTestKit.SendAsync(service, HttpMethod.Put, $"/devices/{deviceId}", device, ifMatch: "*");
        Assert.True(code == HttpStatusCode.OK, answer?.ToJsonString());
    }

    private static async Task AssertRefusedAsync(Func<Task<HubMqttDevice>> connect)
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () => await (await connect()).DisposeAsync());
        Assert.Contains("NotAuthorized", ex.Message, StringComparison.Ordinal);
    }
}
