using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Enrollment;
using CheeseCave.Portal.Tests.Infrastructure;
using CheeseCave.Portal.Tests.Setups;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Automation;

/// <summary>
/// Renewal, revocation and restore through /api/v1 with real tokens against a setup on the embedded emulator: only
/// the operate scope may, the handlers' refusals come back as problems with their sentences, and with approvals on
/// each is recorded (202 with a status URL) and nothing changes.
/// </summary>
public sealed class DeviceLifecycleApiTests
{
    private static readonly string[] Gated = ["RenewDevice", "RevokeDevice", "RestoreDevice"];
    private static readonly string[] GatedDevice = ["gated-001"];

    [Fact]
    public async Task An_operate_token_revokes_restores_and_renews_a_device_and_renewing_a_revoked_device_is_refused_with_409()
    {
        await using var portal = await ApiPortal.StartAsync(name: "lifecycle");
        var (setupId, deviceId) = await DpsSetupWithDeviceAsync(portal, "apilc");
        using var operate = portal.Client(await portal.TokenAsync(portal.Operator, "read", "operate"));
        using var issue = portal.Client(await portal.TokenAsync(portal.Operator, "read", "issue"));
        var revocation = new Uri($"/api/v1/devices/{deviceId}/revocation", UriKind.Relative);
        var renewal = new Uri($"/api/v1/devices/{deviceId}/renewal", UriKind.Relative);

        using (var forbidden = await issue.PostAsJsonAsync(revocation, new { reason = "stolen" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Contains("operate scope", await TitleAsync(forbidden), StringComparison.Ordinal);
        }

        using (var noReason = await operate.PostAsJsonAsync(revocation, new { }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
            Assert.Contains("reason is required", await TitleAsync(noReason), StringComparison.Ordinal);
        }

        using (var revoked = await operate.PostAsJsonAsync(revocation, new { reason = "stolen from line 3" }))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
            var view = await revoked.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(view.GetProperty("revoked").GetBoolean());
            Assert.EndsWith("/apilc-001", view.GetProperty("hubDevice").GetString(), StringComparison.Ordinal);
        }

        var row = await portal.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.Id == deviceId));
        Assert.Equal("stolen from line 3", row.RevocationReason);
        Assert.Equal(portal.Operator.Identity!.Name, row.RevokedBy);

        using (var refused = await operate.PostAsync(renewal, null))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var title = await TitleAsync(refused);
            Assert.Contains($"'apilc-001' was revoked by {row.RevokedBy}", title, StringComparison.Ordinal);
            Assert.Contains("cannot be renewed", title, StringComparison.Ordinal);
        }

        Assert.Equal(1, await DevicesAsync(portal, setupId));

        using (var restored = await operate.DeleteAsync(revocation))
        {
            Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
            Assert.False((await restored.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revoked").GetBoolean());
        }

        using (var again = await operate.DeleteAsync(revocation))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Contains("is not revoked", await TitleAsync(again), StringComparison.Ordinal);
        }

        // No body: the portal makes the key; the password comes once and the key waits for the requester's session.
        int renewedId;
        using (var renewed = await operate.PostAsync(renewal, null))
        {
            Assert.Equal(HttpStatusCode.Created, renewed.StatusCode);
            var view = await renewed.Content.ReadFromJsonAsync<JsonElement>();
            renewedId = view.GetProperty("id").GetInt32();
            Assert.Equal(deviceId, view.GetProperty("renewedDeviceId").GetInt32());
            Assert.False(string.IsNullOrEmpty(view.GetProperty("pfxPassword").GetString()));
            Assert.Equal($"/setups/{setupId}/devices/{renewedId}/apilc-001.pfx", view.GetProperty("pfxUrl").GetString());
            Assert.Equal($"/certificates/devices/{renewedId}", renewed.Headers.Location?.OriginalString);
        }

        Assert.Equal(renewedId, (await portal.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.Id == deviceId))).SupersededByDeviceId);
        using (var stale = await operate.PostAsync(renewal, null))
        {
            Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
            Assert.Contains("already renewed", await TitleAsync(stale), StringComparison.Ordinal);
        }

        // The device's CSR as PEM: its key never leaves it, so there is no password and no key link.
        int newestId;
        using (var fromCsr = await operate.PostAsync(new Uri($"/api/v1/devices/{renewedId}/renewal", UriKind.Relative), new StringContent(ApiPortal.Csr("apilc-001"), Encoding.ASCII, "application/x-pem-file")))
        {
            Assert.Equal(HttpStatusCode.Created, fromCsr.StatusCode);
            var view = await fromCsr.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(JsonValueKind.Null, view.GetProperty("pfxPassword").ValueKind);
            Assert.Equal(JsonValueKind.Null, view.GetProperty("keyUrl").ValueKind);
            var newest = await portal.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync(d => d.Id == view.GetProperty("id").GetInt32()));
            Assert.Equal(DeviceCertificateSource.DeviceCsr, newest.Source);
            Assert.Equal(renewedId, newest.RenewsDeviceId);
            newestId = newest.Id;
        }

        // A CSR for another registration id is refused with the handler's sentence; nothing is written.
        using (var wrong = await operate.PostAsJsonAsync(new Uri($"/api/v1/devices/{newestId}/renewal", UriKind.Relative), new { csr = ApiPortal.Csr("apilc-999") }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Contains("apilc-999", await TitleAsync(wrong), StringComparison.Ordinal);
        }

        using (var badJson = await operate.PostAsync(new Uri($"/api/v1/devices/{newestId}/renewal", UriKind.Relative), new StringContent("{not json", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
            Assert.Contains("not the JSON", await TitleAsync(badJson), StringComparison.Ordinal);
        }

        Assert.Equal(3, await DevicesAsync(portal, setupId));
    }

    [Fact]
    public async Task With_approvals_on_renewal_revocation_and_restore_answer_202_with_a_status_url_and_change_nothing()
    {
        await using var portal = await ApiPortal.StartAsync(approvals: true, name: "lifecycle-gated", gated: Gated);
        using var issue = portal.Client(await portal.TokenAsync(portal.Operator, "read", "issue"));
        using var batch = await issue.PostAsJsonAsync(new Uri($"/api/v1/setups/{portal.SetupId}/device-batches", UriKind.Relative), new { registrationIds = GatedDevice });
        Assert.Equal(HttpStatusCode.Created, batch.StatusCode);
        var deviceId = (await batch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("devices")[0].GetProperty("id").GetInt32();
        using var operate = portal.Client(await portal.TokenAsync(portal.Operator, "read", "operate"));

        using var renewal = await operate.PostAsync(new Uri($"/api/v1/devices/{deviceId}/renewal", UriKind.Relative), null);
        using var revocation = await operate.PostAsJsonAsync(new Uri($"/api/v1/devices/{deviceId}/revocation", UriKind.Relative), new { reason = "decommissioned" });
        foreach (var response in new[] { renewal, revocation })
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var pending = await response.Content.ReadFromJsonAsync<JsonElement>();
            var status = await operate.GetFromJsonAsync<JsonElement>(new Uri(pending.GetProperty("statusUrl").GetString()!, UriKind.Relative));
            Assert.Equal("Pending", status.GetProperty("status").GetString());
        }

        var row = await portal.Factory.WithDbAsync(db => db.SetupDevices.AsNoTracking().SingleAsync());
        Assert.Null(row.RevokedAt);
        Assert.Null(row.SupersededByDeviceId);
    }

    private static async Task<(int SetupId, int DeviceId)> DpsSetupWithDeviceAsync(ApiPortal portal, string name)
    {
        await using var scope = portal.Factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        var setupId = await SetupSteps.VerifiedSetupAsync(wizard, portal.Operator, name, intermediate: true);
        var view = (await wizard.Setups.GetAsync(portal.Operator, setupId)).Value!;
        Assert.True((await wizard.Enrollment.SaveEnrollmentGroupAsync(portal.Operator, setupId, new EnrollmentGroupForm { GroupId = $"{name}-devices", PrimaryCa = view.Root!.DpsCertificateName! })).Succeeded);
        var device = (await wizard.Devices.IssueDevicesAsync(portal.Operator, setupId, [$"{name}-001"])).Value!.Devices[0];
        Assert.True((await wizard.Testing.TestRegistrationAsync(portal.Operator, setupId, device.Id, Provisioning.DeviceRegistration.DeviceTransport.Https)).Value!.Assigned);
        return (setupId, device.Id);
    }

    private static async Task<string> TitleAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString()!;

    private static Task<int> DevicesAsync(ApiPortal portal, int setupId) => portal.Factory.WithDbAsync(db => db.SetupDevices.CountAsync(d => d.SetupId == setupId));
}
