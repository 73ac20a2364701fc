using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Service;

namespace CheeseCave.Emulator.Tests.Service;

public sealed class QueryAndRegistrationTests(ServiceFixture fx) : IClassFixture<ServiceFixture>
{
    private static readonly JsonObject QueryAll = new() { ["query"] = "*" };

    [Fact]
    public async Task Enrollment_group_query_pages_by_id_with_a_continuation_only_while_more_pages_exist()
    {
        var dps = await fx.CreateDpsAsync();
        var ids = new[] { "g-07", "g-01", "g-05", "g-03", "g-02", "g-06", "g-04" };
        foreach (var id in ids)
        {
            var (created, _) = await fx.SendAsync(dps, HttpMethod.Put, $"/enrollmentGroups/{id}", new JsonObject { ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } });
            ServiceAssert.Ok(created);
        }

        var seen = new List<string>();
        string? continuation = null;
        var pages = 0;
        do
        {
            var headers = new Dictionary<string, string> { ["x-ms-max-item-count"] = "3" };
            if (continuation is not null) headers["x-ms-continuation"] = continuation;
            var (response, page) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentGroups/query", QueryAll.DeepClone(), headers: headers);
            ServiceAssert.Ok(response);
            pages++;
            Assert.Equal("EnrollmentGroup", response.Headers.GetValues("x-ms-item-type").Single());
            Assert.Equal("3", response.Headers.GetValues("x-ms-max-item-count").Single());
            var items = page!.AsArray();
            Assert.Equal(pages < 3 ? 3 : 1, items.Count);
            Assert.All(items, i => Assert.Null(i!["attestation"]!["symmetricKey"]!["primaryKey"]));
            seen.AddRange(items.Select(i => i!["enrollmentGroupId"]!.GetValue<string>()));
            continuation = response.Headers.TryGetValues("x-ms-continuation", out var values) ? values.Single() : null;
            Assert.Equal(pages < 3, continuation is not null);
        }
        while (continuation is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(ids.Order(StringComparer.Ordinal), seen);

        // Without a page size the whole (small) set comes at once, with no continuation; individual enrollments are a separate set.
        var (all, allBody) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentGroups/query", QueryAll.DeepClone());
        Assert.Equal(7, allBody!.AsArray().Count);
        Assert.False(all.Headers.Contains("x-ms-continuation"));
        Assert.Equal(ServiceEndpoints.DefaultPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture), all.Headers.GetValues("x-ms-max-item-count").Single());
        var (individual, individualBody) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments/query", QueryAll.DeepClone());
        ServiceAssert.Ok(individual);
        Assert.Empty(individualBody!.AsArray());
        Assert.Equal("Enrollment", individual.Headers.GetValues("x-ms-item-type").Single());
    }

    [Fact]
    public async Task A_foreign_or_garbled_continuation_token_and_a_bad_page_size_are_400s()
    {
        var dps = await fx.CreateDpsAsync();
        for (var i = 0; i < 3; i++)
        {
            await fx.SendAsync(dps, HttpMethod.Put, $"/enrollments/dev-{i}", new JsonObject { ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } });
        }

        var (first, _) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments/query", QueryAll.DeepClone(), headers: new Dictionary<string, string> { ["x-ms-max-item-count"] = "1" });
        var token = first.Headers.GetValues("x-ms-continuation").Single();

        var (foreign, foreignBody) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentGroups/query", QueryAll.DeepClone(), headers: new Dictionary<string, string> { ["x-ms-continuation"] = token });
        ServiceAssert.DpsError(foreign, foreignBody, HttpStatusCode.BadRequest, ErrorCodes.InvalidContinuationToken);
        var (garbled, garbledBody) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments/query", QueryAll.DeepClone(), headers: new Dictionary<string, string> { ["x-ms-continuation"] = "%%%" });
        ServiceAssert.DpsError(garbled, garbledBody, HttpStatusCode.BadRequest, ErrorCodes.InvalidContinuationToken);
        var (size, sizeBody) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments/query", QueryAll.DeepClone(), headers: new Dictionary<string, string> { ["x-ms-max-item-count"] = "0" });
        ServiceAssert.DpsError(size, sizeBody, HttpStatusCode.BadRequest, ErrorCodes.InvalidMaxItemCount);
    }

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
