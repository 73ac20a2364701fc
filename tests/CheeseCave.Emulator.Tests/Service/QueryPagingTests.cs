using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Service;

namespace CheeseCave.Emulator.Tests.Service;

/// <summary>Paging of the service API's queries: x-ms-continuation and x-ms-max-item-count.</summary>
public sealed class QueryPagingTests(ServiceFixture fx) : IClassFixture<ServiceFixture>
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
}
