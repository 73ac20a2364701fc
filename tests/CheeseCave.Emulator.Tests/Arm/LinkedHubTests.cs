using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Tests.Arm;

/// <summary>Linking IoT hubs to a provisioning service: the connection string must name an emulated hub and a policy that can create devices.</summary>
public sealed class LinkedHubTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly ArmCalls _arm = new(fixture.Emulator);

    [Fact]
    public async Task Linking_a_hub_with_its_iothubowner_connection_string_works_and_GET_masks_the_key()
    {
        var hub = ArmCalls.Unique("hub");
        await _arm.CreateHubAsync(hub);
        var connection = await _arm.HubConnectionStringAsync(hub);
        var name = ArmCalls.Unique("dps");

        var created = await _arm.CreateDpsAsync(name, ArmCalls.DpsBody(ArmCalls.Link(connection)));

        var link = Assert.Single(created["properties"]!["iotHubs"]!.AsArray())!;
        Assert.Equal($"{hub}.azure-devices.net", link["name"]!.GetValue<string>());
        Assert.Equal($"HostName={hub}.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=****", link["connectionString"]!.GetValue<string>());
        Assert.Equal("eastus", link["location"]!.GetValue<string>());
        Assert.Equal(1, link["allocationWeight"]!.GetValue<int>());
        Assert.True(link["applyAllocationPolicy"]!.GetValue<bool>());

        var stored = fixture.Emulator.Server.Context.Store.ProvisioningServices.Get(ArmKeys.ProvisioningService(name))!;
        Assert.Equal(connection, Assert.Single(stored.IotHubs).ConnectionString);

        // GET, change the weight, PUT back with the masked key: accepted, the real key is kept.
        var (_, got, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(name));
        got!["properties"]!["iotHubs"]![0]!["allocationWeight"] = 7;
        var (status, updated, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), got);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(7, updated!["properties"]!["iotHubs"]![0]!["allocationWeight"]!.GetValue<int>());
        stored = fixture.Emulator.Server.Context.Store.ProvisioningServices.Get(ArmKeys.ProvisioningService(name))!;
        Assert.Equal(connection, Assert.Single(stored.IotHubs).ConnectionString);

        // Dropping the link.
        got["properties"]!["iotHubs"] = new JsonArray();
        (status, updated, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), got);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Empty(updated!["properties"]!["iotHubs"]!.AsArray());
    }

    [Fact]
    public async Task Linking_with_a_wrong_key_is_400()
    {
        var hub = ArmCalls.Unique("hub");
        await _arm.CreateHubAsync(hub);
        var wrong = $"HostName={hub}.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={EmulatorContext.NewKey()}";

        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(ArmCalls.Unique("dps")), ArmCalls.DpsBody(ArmCalls.Link(wrong)));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidIotHubConnectionString", ArmCalls.ErrorCode(body));
        Assert.Contains("is not a key of the policy 'iothubowner'", ArmCalls.ErrorMessage(body));
    }

    [Theory]
    [InlineData("service", "lacks RegistryWrite")]
    [InlineData("registryReadWrite", "lacks ServiceConnect")]
    [InlineData("device", "lacks RegistryWrite and ServiceConnect")]
    public async Task Linking_with_a_policy_that_cannot_create_devices_is_400(string policy, string expected)
    {
        var hub = ArmCalls.Unique("hub");
        await _arm.CreateHubAsync(hub);
        var connection = await _arm.HubConnectionStringAsync(hub, policy);

        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(ArmCalls.Unique("dps")), ArmCalls.DpsBody(ArmCalls.Link(connection)));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains($"The access policy '{policy}'", ArmCalls.ErrorMessage(body));
        Assert.Contains(expected, ArmCalls.ErrorMessage(body));
        Assert.Contains("link with iothubowner", ArmCalls.ErrorMessage(body));
    }

    [Fact]
    public async Task Linking_an_unknown_hub_a_garbled_string_or_a_bad_weight_is_400()
    {
        var dps = _arm.DpsPath(ArmCalls.Unique("dps"));
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, dps, ArmCalls.DpsBody(ArmCalls.Link($"HostName=nohub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={EmulatorContext.NewKey()}")));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("IotHubNotFound", ArmCalls.ErrorCode(body));

        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, dps, ArmCalls.DpsBody(ArmCalls.Link("not a connection string")));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not an IoT hub connection string", ArmCalls.ErrorMessage(body));

        var hub = ArmCalls.Unique("hub");
        await _arm.CreateHubAsync(hub);
        var connection = await _arm.HubConnectionStringAsync(hub);
        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, dps, ArmCalls.DpsBody(ArmCalls.Link(connection, weight: 0)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("between 1 and 1000", ArmCalls.ErrorMessage(body));

        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, dps, ArmCalls.DpsBody(ArmCalls.Link(connection.Replace(EmulatorHarnessKey(connection), "****", StringComparison.Ordinal))));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("masked", ArmCalls.ErrorMessage(body));

        (status, _, _) = await _arm.CallAsync(HttpMethod.Get, dps);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    private static string EmulatorHarnessKey(string connectionString) => ConnectionStrings.Parse(connectionString)["SharedAccessKey"];
}
