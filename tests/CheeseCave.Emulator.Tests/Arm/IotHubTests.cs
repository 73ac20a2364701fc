using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Tests.Arm;

public sealed class IotHubTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly ArmCalls _arm = new(fixture.Emulator);

    [Fact]
    public async Task Create_answers_201_Accepted_Activating_with_an_operation_under_the_location_as_recorded()
    {
        var name = ArmCalls.Unique("Hub");
        var (status, body, response) = await _arm.CallAsync(HttpMethod.Put, _arm.HubPath(name),
            new JsonObject { ["location"] = "East US", ["sku"] = new JsonObject { ["name"] = "s1", ["capacity"] = 1 }, ["properties"] = new JsonObject() }, version: ArmCalls.HubApi);

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Null(ArmCalls.Header(response, "Retry-After"));
        var operation = ArmCalls.Header(response, "Azure-AsyncOperation")!;
        Assert.Matches(
            $"^https://[^/]+/subscriptions/{fixture.Emulator.SubscriptionId}/providers/Microsoft.Devices/locations/eastus/operationResults/[A-Za-z0-9_-]+\\?api-version=2023-06-30&operationSource=other&asyncinfo$",
            operation);
        using var poll = await fixture.Emulator.Arm.GetAsync(new Uri(operation).PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        Assert.Equal("{\"status\":\"Succeeded\"}", (await EmulatorHarness.ReadJsonAsync(poll))!.ToJsonString());

        Assert.Equal(name, body!["name"]!.GetValue<string>());
        Assert.Equal("Microsoft.Devices/IotHubs", body["type"]!.GetValue<string>());
        Assert.Equal("eastus", body["location"]!.GetValue<string>());
        Assert.Equal("S1", body["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("Standard", body["sku"]!["tier"]!.GetValue<string>());
        Assert.Equal("Activating", body["properties"]!["state"]!.GetValue<string>());
        Assert.Equal("Accepted", body["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Null(body["properties"]!["hostName"]); // Azure's create answer has no hostName yet

        var (getStatus, got, _) = await _arm.CallAsync(HttpMethod.Get, _arm.HubPath(name), version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.OK, getStatus);
        Assert.Equal($"{name.ToLowerInvariant()}.azure-devices.net", got!["properties"]!["hostName"]!.GetValue<string>());
        Assert.Equal("Active", got["properties"]!["state"]!.GetValue<string>());
        Assert.Equal("Succeeded", got["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal(ArmCalls.Etag(body), ArmCalls.Etag(got));

        // Update: also 201 + Azure-AsyncOperation and Accepted; a new etag.
        var (updateStatus, updated, updateResponse) = await _arm.CallAsync(HttpMethod.Put, _arm.HubPath(name),
            new JsonObject { ["location"] = "eastus", ["sku"] = new JsonObject { ["name"] = "S2", ["capacity"] = 2 } }, version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.Created, updateStatus);
        Assert.Contains("/operationResults/", ArmCalls.Header(updateResponse, "Azure-AsyncOperation"), StringComparison.Ordinal);
        Assert.Equal("Accepted", updated!["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal("Active", updated["properties"]!["state"]!.GetValue<string>());
        Assert.Equal("S2", updated["sku"]!["name"]!.GetValue<string>());
        Assert.NotEqual(ArmCalls.Etag(body), ArmCalls.Etag(updated));
    }

    [Fact]
    public async Task Listkeys_has_the_five_standard_policies_and_keys_by_name()
    {
        var name = ArmCalls.Unique("hub");
        await _arm.CreateHubAsync(name);

        var (status, keys, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.HubPath(name)}/listkeys", version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.OK, status);
        var policies = keys!["value"]!.AsArray().ToDictionary(p => p!["keyName"]!.GetValue<string>(), p => p!["rights"]!.GetValue<string>());
        Assert.Equal(new Dictionary<string, string>
        {
            ["iothubowner"] = "RegistryWrite, ServiceConnect, DeviceConnect",
            ["service"] = "ServiceConnect",
            ["device"] = "DeviceConnect",
            ["registryRead"] = "RegistryRead",
            ["registryReadWrite"] = "RegistryWrite",
        }, policies);
        Assert.True(keys.ContainsKey("nextLink"));
        Assert.All(keys["value"]!.AsArray(), p => Assert.Equal(32, Convert.FromBase64String(p!["primaryKey"]!.GetValue<string>()).Length));

        var (oneStatus, owner, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.HubPath(name)}/IotHubKeys/iothubowner/listkeys", version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.OK, oneStatus);
        Assert.Equal("iothubowner", owner!["keyName"]!.GetValue<string>());

        var (missing, error, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.HubPath(name)}/IotHubKeys/nobody/listkeys", version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("KeyNameNotFound", ArmCalls.ErrorCode(error));
    }

    [Fact]
    public async Task Sku_and_location_are_required_and_names_are_checked_and_global()
    {
        var name = ArmCalls.Unique("hub");
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.HubPath(name), new JsonObject { ["location"] = "eastus" }, version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidSku", ArmCalls.ErrorCode(body));

        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.HubPath(name), new JsonObject { ["location"] = "eastus", ["sku"] = new JsonObject { ["name"] = "P1" } }, version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("F1, S1, S2, S3, B1, B2, B3", ArmCalls.ErrorMessage(body));

        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.HubPath(name), new JsonObject { ["sku"] = new JsonObject { ["name"] = "S1" } }, version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("LocationRequired", ArmCalls.ErrorCode(body));

        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.HubPath("no_underscores"), new JsonObject { ["location"] = "eastus", ["sku"] = new JsonObject { ["name"] = "S1" } }, version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidIotHubName", ArmCalls.ErrorCode(body));

        await _arm.CreateHubAsync(name, "F1");
        var otherGroup = $"/subscriptions/{fixture.Emulator.SubscriptionId}/resourcegroups/{ArmCalls.Unique("rg")}";
        await _arm.CallAsync(HttpMethod.Put, otherGroup, new JsonObject { ["location"] = "eastus" }, version: "2022-09-01");
        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, $"{otherGroup}/providers/Microsoft.Devices/IotHubs/{name}",
            new JsonObject { ["location"] = "eastus", ["sku"] = new JsonObject { ["name"] = "S1" } }, version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("already taken", ArmCalls.ErrorMessage(body));

        var check = $"/subscriptions/{fixture.Emulator.SubscriptionId}/providers/Microsoft.Devices/checkNameAvailability";
        var (_, taken, _) = await _arm.CallAsync(HttpMethod.Post, check, new JsonObject { ["name"] = name }, version: ArmCalls.HubApi);
        Assert.False(taken!["nameAvailable"]!.GetValue<bool>());
        Assert.Equal("AlreadyExists", taken["reason"]!.GetValue<string>());
        var (_, invalid, _) = await _arm.CallAsync(HttpMethod.Post, check, new JsonObject { ["name"] = "-x-" }, version: ArmCalls.HubApi);
        Assert.Equal("Invalid", invalid!["reason"]!.GetValue<string>());
        var (_, free, _) = await _arm.CallAsync(HttpMethod.Post, check, new JsonObject { ["name"] = ArmCalls.Unique("free") }, version: ArmCalls.HubApi);
        Assert.True(free!["nameAvailable"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Lists_patch_and_delete()
    {
        var name = ArmCalls.Unique("hub");
        await _arm.CreateHubAsync(name);

        var (_, byGroup, _) = await _arm.CallAsync(HttpMethod.Get, $"{_arm.Group}/providers/Microsoft.Devices/IotHubs", version: ArmCalls.HubApi);
        Assert.Contains(byGroup!["value"]!.AsArray(), h => h!["name"]!.GetValue<string>() == name);
        var (_, bySubscription, _) = await _arm.CallAsync(HttpMethod.Get, $"/subscriptions/{fixture.Emulator.SubscriptionId}/providers/Microsoft.Devices/IotHubs", version: ArmCalls.HubApi);
        Assert.Contains(bySubscription!["value"]!.AsArray(), h => h!["name"]!.GetValue<string>() == name);

        var (patchStatus, patched, _) = await _arm.CallAsync(HttpMethod.Patch, _arm.HubPath(name), new JsonObject { ["tags"] = new JsonObject { ["a"] = "b" } }, version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.OK, patchStatus);
        Assert.Equal("b", patched!["tags"]!["a"]!.GetValue<string>());

        // A DPS linked to the hub does not block its deletion (as on Azure); the link stays.
        var dps = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(dps, ArmCalls.DpsBody(ArmCalls.Link(await _arm.HubConnectionStringAsync(name))));
        var store = fixture.Emulator.Server.Context.Store;
        var now = DateTimeOffset.UtcNow;
        await store.WriteAsync(tx => tx.Put(store.HubDevices, ArmKeys.HubDevice(name, "dev1"),
            new HubDeviceEntity(name, "dev1", "selfSigned", null, null, false, "enabled", new JsonObject(), new JsonObject(), "e", now, now)));

        using var deleted = await _arm.SendAsync(HttpMethod.Delete, _arm.HubPath(name), version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        Assert.Equal("null", await deleted.Content.ReadAsStringAsync()); // as recorded
        var asyncOperation = ArmCalls.Header(deleted, "Azure-AsyncOperation")!;
        Assert.EndsWith("&operationSource=other&asyncinfo", asyncOperation, StringComparison.Ordinal);
        Assert.Equal(asyncOperation[..^"&asyncinfo".Length], deleted.Headers.Location!.ToString());
        Assert.Null(store.HubDevices.Get(ArmKeys.HubDevice(name, "dev1")));
        var (gone, _, _) = await _arm.CallAsync(HttpMethod.Get, _arm.HubPath(name), version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.NotFound, gone);
        var (again, _, _) = await _arm.CallAsync(HttpMethod.Delete, _arm.HubPath(name), version: ArmCalls.HubApi);
        Assert.Equal(HttpStatusCode.NoContent, again);
        var (_, linked, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(dps));
        Assert.Single(linked!["properties"]!["iotHubs"]!.AsArray());
    }
}
