using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Automation;

/// <summary>The certificate inventory through /api/v1: the page's filters and paging, with a read token.</summary>
public sealed class InventoryApiTests
{
    [Fact]
    public async Task A_read_token_pages_through_the_inventory_with_the_pages_filters_and_bad_filters_get_400()
    {
        await using var portal = await ApiPortal.StartAsync(name: "inventory-api");
        int setupId;
        await using (var scope = portal.Factory.Services.CreateAsyncScope())
        {
            var wizard = new SetupSlices(scope.ServiceProvider);
            setupId = await SetupSteps.VerifiedSetupAsync(wizard, portal.Operator, "invapi", intermediate: true);
            Assert.True((await wizard.Devices.IssueDevicesAsync(portal.Operator, setupId, ["invapi-001", "invapi-002", "invapi-003"])).Succeeded);
        }

        using var read = portal.Client(await portal.TokenAsync(portal.Operator, "read"));

        var first = await read.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/certificates?setup={setupId}&kind=device&take=2", UriKind.Relative));
        Assert.Equal(3, first.GetProperty("totalCount").GetInt32());
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        var second = await read.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/certificates?setup={setupId}&kind=device&skip=2&take=2", UriKind.Relative));
        var names = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).Select(i => i.GetProperty("name").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(["invapi-001", "invapi-002", "invapi-003"], names);

        var cas = await read.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/certificates?setup={setupId}&kind=ca", UriKind.Relative));
        Assert.Equal(2, cas.GetProperty("totalCount").GetInt32());
        var found = await read.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/certificates?q=invapi-002&status=active", UriKind.Relative));
        Assert.Equal("invapi-002", Assert.Single(found.GetProperty("items").EnumerateArray()).GetProperty("name").GetString());

        foreach (var bad in new[] { "status=lost", "take=500", "skip=-1", "kind=key" })
        {
            using var response = await read.GetAsync(new Uri($"/api/v1/certificates?{bad}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()), bad);
        }
    }
}
