using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Tests.Arm;

/// <summary>A provisioning service's shared access policies: listkeys, keys by name, and policies sent back on PUT.</summary>
public sealed class AccessPolicyTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly ArmCalls _arm = new(fixture.Emulator);

    [Fact]
    public async Task Listkeys_returns_the_owner_policy_with_keys_and_keys_by_name()
    {
        var name = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(name);

        var (status, keys, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.DpsPath(name)}/listkeys");
        Assert.Equal(HttpStatusCode.OK, status);
        var owner = Assert.Single(keys!["value"]!.AsArray())!;
        Assert.Equal("provisioningserviceowner", owner["keyName"]!.GetValue<string>());
        Assert.Equal(32, Convert.FromBase64String(owner["primaryKey"]!.GetValue<string>()).Length);
        Assert.Equal(32, Convert.FromBase64String(owner["secondaryKey"]!.GetValue<string>()).Length);
        Assert.Null(keys["nextLink"]);

        var (oneStatus, one, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.DpsPath(name)}/keys/provisioningserviceowner/listkeys");
        Assert.Equal(HttpStatusCode.OK, oneStatus);
        Assert.Equal(owner["primaryKey"]!.GetValue<string>(), one!["primaryKey"]!.GetValue<string>());

        var (unknown, error, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.DpsPath(name)}/keys/nobody/listkeys");
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Equal("KeyNameNotFound", ArmCalls.ErrorCode(error));

        // The service connection string a client builds from listkeys reaches this emulator.
        var (_, dps, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(name));
        Assert.Equal(new Uri(fixture.Emulator.Server.Endpoints.ArmEndpoint).Authority, dps!["properties"]!["serviceOperationsHostName"]!.GetValue<string>());

        var (skuStatus, skus, _) = await _arm.CallAsync(HttpMethod.Get, $"{_arm.DpsPath(name)}/skus");
        Assert.Equal(HttpStatusCode.OK, skuStatus);
        Assert.Equal("S1", Assert.Single(skus!["value"]!.AsArray())!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Policies_sent_back_without_keys_keep_their_keys_and_new_ones_get_keys()
    {
        var name = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(name);
        var (_, before, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.DpsPath(name)}/keys/provisioningserviceowner/listkeys");

        // GET carries no policies (as on Azure): the caller sends the ones it keeps, by name and rights.
        var (_, got, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(name));
        Assert.Null(got!["properties"]!["authorizationPolicies"]);
        got["properties"]!["authorizationPolicies"] = new JsonArray(
            new JsonObject { ["keyName"] = "provisioningserviceowner", ["rights"] = "ServiceConfig, EnrollmentRead, EnrollmentWrite, DeviceConnect, RegistrationStatusRead, RegistrationStatusWrite" },
            new JsonObject { ["keyName"] = "enrollments", ["rights"] = "enrollmentread, EnrollmentWrite" });
        var (status, echoed, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), got);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(before!["primaryKey"]!.GetValue<string>(), echoed!["properties"]!["authorizationPolicies"]![0]!["primaryKey"]!.GetValue<string>());

        var (_, keys, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.DpsPath(name)}/listkeys");
        var all = keys!["value"]!.AsArray();
        Assert.Equal(2, all.Count);
        Assert.Equal(before!["primaryKey"]!.GetValue<string>(), all[0]!["primaryKey"]!.GetValue<string>());
        Assert.Equal("EnrollmentRead, EnrollmentWrite", all[1]!["rights"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(all[1]!["primaryKey"]!.GetValue<string>()));

        var bad = got.DeepClone().AsObject();
        bad["properties"]!["authorizationPolicies"] = new JsonArray(new JsonObject { ["keyName"] = "x", ["rights"] = "RegistryWrite" });
        var (badStatus, error, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), bad);
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Contains("unknown right 'RegistryWrite'", ArmCalls.ErrorMessage(error));
    }
}
