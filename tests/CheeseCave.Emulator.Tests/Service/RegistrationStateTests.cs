using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Service;

namespace CheeseCave.Emulator.Tests.Service;

/// <summary>Device registration states on the service API: read, delete with an etag, query per group.</summary>
public sealed class RegistrationStateTests(ServiceFixture fx) : IClassFixture<ServiceFixture>
{
    private static readonly JsonObject QueryAll = new() { ["query"] = "*" };

    [Fact]
    public async Task A_registration_state_is_read_and_deleted_with_its_etag()
    {
        var dps = await fx.CreateDpsAsync("hub1");
        await fx.AddRegistrationAsync(dps, "wheel-42", "cave-a", etag: "AAAAAAAAAAk=");

        var (read, state) = await fx.SendAsync(dps, HttpMethod.Get, "/registrations/WHEEL-42");
        ServiceAssert.Ok(read);
        Assert.Equal("wheel-42", state!["registrationId"]!.GetValue<string>());
        Assert.Equal("hub1.azure-devices.net", state["assignedHub"]!.GetValue<string>());
        Assert.Equal("wheel-42", state["deviceId"]!.GetValue<string>());
        Assert.Equal("assigned", state["status"]!.GetValue<string>());
        Assert.Equal("initialAssignment", state["substatus"]!.GetValue<string>());
        Assert.Equal("AAAAAAAAAAk=", state["etag"]!.GetValue<string>());
        Assert.Equal("gouda", state["payload"]!["model"]!.GetValue<string>());
        Assert.NotNull(state["createdDateTimeUtc"]);
        Assert.NotNull(state["lastUpdatedDateTimeUtc"]);

        var (stale, staleBody) = await fx.SendAsync(dps, HttpMethod.Delete, "/registrations/wheel-42", ifMatch: "AAAAAAAAAAA=");
        ServiceAssert.DpsError(stale, staleBody, HttpStatusCode.PreconditionFailed, ErrorCodes.PreconditionFailed);
        var (deleted, _) = await fx.SendAsync(dps, HttpMethod.Delete, "/registrations/wheel-42", ifMatch: "AAAAAAAAAAk=");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var (gone, goneBody) = await fx.SendAsync(dps, HttpMethod.Get, "/registrations/wheel-42");
        ServiceAssert.DpsError(gone, goneBody, HttpStatusCode.NotFound, ErrorCodes.RegistrationNotFound);
        var (goneDelete, goneDeleteBody) = await fx.SendAsync(dps, HttpMethod.Delete, "/registrations/wheel-42");
        ServiceAssert.DpsError(goneDelete, goneDeleteBody, HttpStatusCode.NotFound, ErrorCodes.RegistrationNotFound);
    }

    [Fact]
    public async Task Registration_query_lists_the_devices_of_one_group_with_paging_and_tolerates_no_body()
    {
        var dps = await fx.CreateDpsAsync("hub1");
        foreach (var id in new[] { "d-3", "d-1", "d-2" }) await fx.AddRegistrationAsync(dps, id, "Cave-A");
        await fx.AddRegistrationAsync(dps, "other-1", "cave-b");
        await fx.AddRegistrationAsync(dps, "solo-1", null);

        var (first, firstPage) = await fx.SendAsync(dps, HttpMethod.Post, "/registrations/cave-a/query", QueryAll.DeepClone(),
            headers: new Dictionary<string, string> { ["x-ms-max-item-count"] = "2" });
        ServiceAssert.Ok(first);
        Assert.Equal("DeviceRegistration", first.Headers.GetValues("x-ms-item-type").Single());
        Assert.Equal(["d-1", "d-2"], firstPage!.AsArray().Select(r => r!["registrationId"]!.GetValue<string>()));
        var token = first.Headers.GetValues("x-ms-continuation").Single();

        var (second, secondPage) = await fx.SendAsync(dps, HttpMethod.Post, "/registrations/cave-a/query", null,
            headers: new Dictionary<string, string> { ["x-ms-max-item-count"] = "2", ["x-ms-continuation"] = token });
        ServiceAssert.Ok(second);
        Assert.Equal(["d-3"], secondPage!.AsArray().Select(r => r!["registrationId"]!.GetValue<string>()));
        Assert.False(second.Headers.Contains("x-ms-continuation"));

        var (none, noneBody) = await fx.SendAsync(dps, HttpMethod.Post, "/registrations/no-such-group/query");
        ServiceAssert.Ok(none);
        Assert.Empty(noneBody!.AsArray());
    }
}
