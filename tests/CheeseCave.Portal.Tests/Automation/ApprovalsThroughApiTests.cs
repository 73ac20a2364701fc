using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CheeseCave.Portal.Approvals;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Tests.Automation;

public sealed class ApprovalsThroughApiTests
{
    private static readonly string[] TwoDevices = ["cave-001", "cave-002"];

    [Fact]
    public async Task With_approvals_on_a_grant_request_waits_an_approver_activates_it_and_the_line_then_signs()
    {
        await using var portal = await ApiPortal.StartAsync(approvals: true, name: "four-eyes");
        using var client = portal.Client(await portal.TokenAsync(portal.Operator, "read", "issue"));
        using var asked = await client.PostAsJsonAsync(new Uri("/api/v1/grants", UriKind.Relative),
            new { setupId = portal.SetupId, name = "Line 3", pattern = "line3-*", maxCount = 3, validityDays = 200, expiresInDays = 10 });
        Assert.Equal(HttpStatusCode.Accepted, asked.StatusCode);
        var pending = await asked.Content.ReadFromJsonAsync<JsonElement>();
        var statusUrl = pending.GetProperty("statusUrl").GetString()!;
        Assert.Equal(0, await portal.Factory.WithDbAsync(db => db.IssuanceGrants.CountAsync()));

        var waiting = await client.GetFromJsonAsync<JsonElement>(new Uri(statusUrl, UriKind.Relative));
        Assert.Equal("Pending", waiting.GetProperty("status").GetString());

        // The requester cannot approve their own request; another approver can.
        var self = await portal.UseAsync<PortalResult<ApprovalView>, ApprovalService>(a => a.ApproveAsync(portal.Operator, pending.GetProperty("requestId").GetInt32()));
        Assert.False(self.Succeeded && self.Value!.Status == ApprovalStatus.Applied);
        var approver = await portal.UserAsync("grant-approver", PortalRoles.Approver);
        var approved = await portal.UseAsync<PortalResult<ApprovalView>, ApprovalService>(a => a.ApproveAsync(approver, pending.GetProperty("requestId").GetInt32()));
        Assert.Equal(ApprovalStatus.Applied, approved.Value?.Status);

        var applied = await client.GetFromJsonAsync<JsonElement>(new Uri(statusUrl, UriKind.Relative));
        Assert.Equal("Applied", applied.GetProperty("status").GetString());
        var grantUrl = applied.GetProperty("resultUrl").GetString()!;
        Assert.StartsWith("/api/v1/grants/", grantUrl, StringComparison.Ordinal);
        var grant = await client.GetFromJsonAsync<JsonElement>(new Uri(grantUrl, UriKind.Relative));
        Assert.Equal("Active", grant.GetProperty("grant").GetProperty("status").GetString());
        Assert.Equal(approver.Identity!.Name, grant.GetProperty("grant").GetProperty("approvedBy").GetString());
        Assert.Equal(portal.Operator.Identity!.Name, grant.GetProperty("grant").GetProperty("requestedBy").GetString());

        using var signed = await client.PostAsync(new Uri(grantUrl + "/certificates", UriKind.Relative), new StringContent(ApiPortal.Csr("line3-0001"), Encoding.ASCII, "application/x-pem-file"));
        Assert.Equal(HttpStatusCode.Created, signed.StatusCode);
        var device = await portal.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.GrantId != null));
        Assert.Equal(approver.Identity.Name, device.ApprovedBy);
        var usage = await client.GetFromJsonAsync<JsonElement>(new Uri(grantUrl, UriKind.Relative));
        Assert.Equal(1, usage.GetProperty("grant").GetProperty("issuedCount").GetInt32());
        Assert.Equal("line3-0001", usage.GetProperty("recent")[0].GetProperty("registrationId").GetString());
    }

    [Fact]
    public async Task With_approvals_on_a_device_batch_answers_202_with_a_status_url()
    {
        await using var portal = await ApiPortal.StartAsync(approvals: true, name: "batch");
        using var client = portal.Client(await portal.TokenAsync(portal.Operator, "read", "issue"));
        using var response = await client.PostAsJsonAsync(new Uri($"/api/v1/setups/{portal.SetupId}/device-batches", UriKind.Relative), new { prefix = "cave-", count = 2 });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var pending = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"/api/v1/approvals/{pending.GetProperty("requestId").GetInt32()}", pending.GetProperty("statusUrl").GetString());
        Assert.Equal(0, await portal.Factory.WithDbAsync(db => db.SetupDevices.CountAsync()));
    }

    [Fact]
    public async Task Without_approvals_a_device_batch_is_issued_at_once_with_its_password_and_download_links()
    {
        await using var portal = await ApiPortal.StartAsync(name: "batch-now");
        using var client = portal.Client(await portal.TokenAsync(portal.Operator, "read", "issue"));
        using var response = await client.PostAsJsonAsync(new Uri($"/api/v1/setups/{portal.SetupId}/device-batches", UriKind.Relative), new { registrationIds = TwoDevices });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var batch = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(batch.GetProperty("pfxPassword").GetString()));
        Assert.Equal(2, batch.GetProperty("devices").GetArrayLength());
        Assert.EndsWith("/cave-001.pfx", batch.GetProperty("devices")[0].GetProperty("pfxUrl").GetString(), StringComparison.Ordinal);

        using var bad = await client.PostAsync(new Uri($"/api/v1/setups/{portal.SetupId}/device-batches", UriKind.Relative), new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("not the JSON", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString(), StringComparison.Ordinal);
        using var missing = await client.PostAsJsonAsync(new Uri("/api/v1/setups/98765/device-batches", UriKind.Relative), new { registrationIds = TwoDevices });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_grant_request_with_bad_terms_is_refused_with_what_to_do()
    {
        await using var portal = await ApiPortal.StartAsync(name: "terms");
        using var client = portal.Client(await portal.TokenAsync(portal.Operator, "read", "issue"));
        using var response = await client.PostAsJsonAsync(new Uri("/api/v1/grants", UriKind.Relative), new { setupId = portal.SetupId, name = "all", pattern = "*", maxCount = 10, validityDays = 30 });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("at least 3 fixed characters", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await portal.Factory.WithDbAsync(db => db.IssuanceGrants.CountAsync()));
    }
}
