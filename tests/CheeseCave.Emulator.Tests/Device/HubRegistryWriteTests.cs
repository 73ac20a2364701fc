using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Tests.Device;

/// <summary>PUT /devices/{id}: create when missing, enable/disable with If-Match, 409 without it, 412 on a stale etag.</summary>
public sealed class HubRegistryWriteTests
{
    [Fact]
    public async Task Disabling_a_provisioned_device_needs_its_current_etag_and_survives_a_new_registration()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var device = pki.IssueDevice("gouda-001");
        await env.RegisterAsync(device);

        using var hub = env.HubClient("cave-hub");
        var read = await EmulatorHarness.ReadJsonAsync(await hub.GetAsync("/devices/gouda-001?api-version=2021-04-12"));
        var etag = read.Str("etag")!;
        var disabled = (JsonObject)read!.DeepClone();
        disabled["status"] = "disabled";
        disabled["statusReason"] = "stolen";

        var noIfMatch = await hub.PutAsJsonAsync("/devices/gouda-001?api-version=2021-04-12", disabled);
        Assert.Equal(HttpStatusCode.Conflict, noIfMatch.StatusCode);
        Assert.StartsWith("ErrorCode:DeviceAlreadyExists;", (await EmulatorHarness.ReadJsonAsync(noIfMatch)).Str("Message"), StringComparison.Ordinal);

        var stale = await Put(hub, "gouda-001", disabled, "\"AAAAAAAAAAA=\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.StartsWith("ErrorCode:PreconditionFailed;", (await EmulatorHarness.ReadJsonAsync(stale)).Str("Message"), StringComparison.Ordinal);
        Assert.Equal("enabled", env.HubDevice("cave-hub", "gouda-001")!.Status); // nothing half-written

        var done = await Put(hub, "gouda-001", disabled, $"\"{etag}\"");
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        var after = await EmulatorHarness.ReadJsonAsync(done);
        Assert.Equal("disabled", after.Str("status"));
        Assert.Equal("stolen", after.Str("statusReason"));
        Assert.NotEqual(etag, after.Str("etag"));
        Assert.Equal(DeviceTestEnvironment.Sha256(device.Certificate), after.Str("authentication", "x509Thumbprint", "primaryThumbprint"));

        // The old etag is stale now; "*" overwrites whatever is there.
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await Put(hub, "gouda-001", disabled, etag)).StatusCode);

        // A new registration does not re-enable a device the hub's owner disabled.
        await env.RegisterAsync(device);
        Assert.Equal("disabled", (await EmulatorHarness.ReadJsonAsync(await hub.GetAsync("/devices/gouda-001"))).Str("status"));

        var enabled = new JsonObject { ["deviceId"] = "gouda-001", ["status"] = "enabled" };
        var back = await Put(hub, "gouda-001", enabled, "*");
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        Assert.Equal("enabled", (await EmulatorHarness.ReadJsonAsync(back)).Str("status"));
    }

    [Fact]
    public async Task A_missing_device_is_created_and_bad_bodies_and_read_only_policies_are_refused()
    {
        await using var env = await DeviceTestEnvironment.StartAsync();
        using var hub = env.HubClient("cave-hub");

        var created = await hub.PutAsJsonAsync("/devices/feta-009?api-version=2021-04-12", new JsonObject
        {
            ["deviceId"] = "feta-009",
            ["status"] = "disabled",
            ["authentication"] = new JsonObject { ["type"] = "certificateAuthority" },
        });
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var json = await EmulatorHarness.ReadJsonAsync(created);
        Assert.Equal("disabled", json.Str("status"));
        Assert.Equal("certificateAuthority", json.Str("authentication", "type"));

        var mismatch = await Put(hub, "feta-010", new JsonObject { ["deviceId"] = "other" }, null);
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        var badStatus = await Put(hub, "feta-009", new JsonObject { ["status"] = "paused" }, "*");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.GetAsync("/devices/feta-010")).StatusCode);

        using var serviceOnly = env.HubClient("cave-hub", policy: "service", key: DeviceTestEnvironment.HubKey("cave-hub-svc"));
        var refused = await Put(serviceOnly, "feta-009", new JsonObject { ["status"] = "enabled" }, "*");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("RegistryWrite", (await EmulatorHarness.ReadJsonAsync(refused)).Str("Message"), StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> Put(HttpClient hub, string deviceId, JsonObject body, string? ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/devices/{deviceId}?api-version=2021-04-12") { Content = JsonContent.Create(body) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return hub.SendAsync(request);
    }
}
