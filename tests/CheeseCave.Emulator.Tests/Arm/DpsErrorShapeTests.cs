using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Tests.Arm;

/// <summary>Which ARM errors come in the DPS provider's flat shape and which in ARM's own (docs/azure-wire.md §1.6).</summary>
public sealed class DpsErrorShapeTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly ArmCalls _arm = new(fixture.Emulator);

    [Fact]
    public async Task DPS_errors_use_the_flat_shape_with_a_numeric_code_and_front_door_errors_keep_ARMs_shape()
    {
        var name = ArmCalls.Unique("dps");
        var bad = ArmCalls.DpsBody();
        bad["properties"]!["allocationPolicy"] = "Random";
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), bad);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body);
        Assert.Equal(["code", "httpStatusCode", "message", "details"], body.Select(p => p.Key));
        Assert.Equal(JsonValueKind.Number, body["code"]!.GetValueKind());
        Assert.InRange(body["code"]!.GetValue<int>(), 400000, 400999);
        Assert.Equal("BadRequest", body["httpStatusCode"]!.GetValue<string>());
        Assert.Contains("Random", body["message"]!.GetValue<string>(), StringComparison.Ordinal);

        await _arm.CreateDpsAsync(name);
        var (stale, staleBody, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), ArmCalls.DpsBody(), ifMatch: "\"AAAAAAAAAAA=\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale);
        Assert.Equal("PreconditionFailed", staleBody!["httpStatusCode"]!.GetValue<string>());
        Assert.Equal(412, staleBody["code"]!.GetValue<int>() / 1000);

        // ARM itself (the resource is unknown to it, the resource group is missing) answers {"error":{code,message}}.
        var (missing, missingBody, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(ArmCalls.Unique("none")));
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("ResourceNotFound", missingBody!["error"]!["code"]!.GetValue<string>());
        var (noGroup, noGroupBody, _) = await _arm.CallAsync(HttpMethod.Get, $"/subscriptions/{fixture.Emulator.SubscriptionId}/resourceGroups/no-such-rg/providers/Microsoft.Devices/provisioningServices/{name}");
        Assert.Equal(HttpStatusCode.NotFound, noGroup);
        Assert.Equal("ResourceGroupNotFound", noGroupBody!["error"]!["code"]!.GetValue<string>());
    }
}
