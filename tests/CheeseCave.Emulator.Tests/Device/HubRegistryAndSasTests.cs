using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Service;

namespace CheeseCave.Emulator.Tests.Device;

/// <summary>The assigned device in the IoT Hub registry, and symmetric-key (SAS) registration.</summary>
public sealed class HubRegistryAndSasTests
{
    [Fact]
    public async Task The_assigned_device_is_readable_from_the_hub_registry_with_a_hub_SAS()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var device = pki.IssueDevice("brie-001");
        await env.RegisterAsync(device);

        using var hub = env.HubClient("cave-hub");
        var response = await hub.GetAsync("/devices/brie-001?api-version=2021-04-12");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await EmulatorHarness.ReadJsonAsync(response);
        Assert.Equal("brie-001", json.Str("deviceId"));
        Assert.Equal("selfSigned", json.Str("authentication", "type"));
        Assert.Equal(DeviceTestEnvironment.Sha256(device.Certificate), json.Str("authentication", "x509Thumbprint", "primaryThumbprint"));
        Assert.Equal("Disconnected", json.Str("connectionState"));
        Assert.Equal("enabled", json.Str("status"));
        Assert.False(json!["capabilities"]!["iotEdge"]!.GetValue<bool>());
        Assert.Matches("^[0-9]{18}$", json.Str("generationId"));

        var list = await EmulatorHarness.ReadJsonAsync(await hub.GetAsync("/devices?top=10&api-version=2021-04-12"));
        Assert.Equal(["brie-001"], list!.AsArray().Select(d => d!["deviceId"]!.GetValue<string>()));

        var twin = await EmulatorHarness.ReadJsonAsync(await hub.GetAsync("/twins/brie-001?api-version=2021-04-12"));
        Assert.Equal("roquefort", twin.Str("tags", "cave"));
        Assert.Equal(95, twin!["properties"]!["desired"]!["humidity"]!.GetValue<int>());

        var missing = await hub.GetAsync("/devices/nobody?api-version=2021-04-12");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.StartsWith("ErrorCode:DeviceNotFound;", (await EmulatorHarness.ReadJsonAsync(missing)).Str("Message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hub_registry_refuses_a_bad_signature_and_a_policy_without_registry_rights()
    {
        await using var env = await DeviceTestEnvironment.StartAsync();

        using var forged = env.HubClient("cave-hub", key: DeviceTestEnvironment.HubKey("someone-else"));
        var bad = await forged.GetAsync("/devices?api-version=2021-04-12");
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.StartsWith("ErrorCode:IotHubUnauthorizedAccess;", (await EmulatorHarness.ReadJsonAsync(bad)).Str("Message"), StringComparison.Ordinal);

        using var serviceOnly = env.HubClient("cave-hub", policy: "service", key: DeviceTestEnvironment.HubKey("cave-hub-svc"));
        var noRights = await serviceOnly.GetAsync("/devices?api-version=2021-04-12");
        Assert.Equal(HttpStatusCode.Unauthorized, noRights.StatusCode);
        Assert.Contains("RegistryRead", (await EmulatorHarness.ReadJsonAsync(noRights)).Str("Message"), StringComparison.Ordinal);

        using var anonymous = env.Harness.CreateClient(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/devices/x")).StatusCode);

        using var secondaryKey = env.HubClient("cave-hub", key: DeviceTestEnvironment.HubKey("cave-hub-2"));
        Assert.Equal(HttpStatusCode.OK, (await secondaryKey.GetAsync("/devices")).StatusCode);
    }

    [Fact]
    public async Task A_symmetric_key_group_device_registers_with_its_derived_key()
    {
        await using var env = await DeviceTestEnvironment.StartAsync();
        var groupKey = Convert.ToBase64String(new byte[64]);
        await env.PutEnrollmentAsync(new JsonObject
        {
            ["enrollmentGroupId"] = "sas-group",
            ["attestation"] = new JsonObject
            {
                ["type"] = "symmetricKey",
                ["symmetricKey"] = new JsonObject { ["primaryKey"] = groupKey, ["secondaryKey"] = Convert.ToBase64String(new byte[32]) },
            },
        });
        var deviceKey = SharedAccessSignatures.DeriveDeviceKey(groupKey, "camembert-01");
        string Sas(string key, string id = "camembert-01") =>
            SharedAccessSignatures.Create($"{env.IdScope}/registrations/{id}", "registration", key, DateTimeOffset.UtcNow.AddHours(1));

        using var client = env.DeviceClient(null);
        var (status, body, _) = await env.RegisterWithAsync(client, "camembert-01", Sas(deviceKey));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("sas-group", body.Str("registrationState", "symmetricKey", "enrollmentGroupId"));
        var hubDevice = env.HubDevice("cave-hub", "camembert-01")!;
        Assert.Equal(("sas", deviceKey), (hubDevice.AuthenticationType, hubDevice.PrimaryKey));

        var (wrong, wrongBody, _) = await env.RegisterWithAsync(client, "camembert-02", Sas(deviceKey, "camembert-02"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        Assert.Equal("noEnrollment", wrongBody.Str("info", "reason"));

        var (expired, expiredBody, _) = await env.RegisterWithAsync(client, "camembert-01",
            SharedAccessSignatures.Create($"{env.IdScope}/registrations/camembert-01", "registration", deviceKey, DateTimeOffset.UtcNow.AddHours(-1)));
        Assert.Equal(HttpStatusCode.Unauthorized, expired);
        Assert.Equal("sasExpired", expiredBody.Str("info", "reason"));
    }

    [Fact]
    public void SAS_tokens_verify_over_the_raw_and_the_encoded_resource()
    {
        var key = Convert.ToBase64String(new byte[32]);
        static SharedAccessToken Parse(string header) =>
            SharedAccessSignatures.TryParse(header, out var token, out _, out _) ? token! : throw new InvalidOperationException(header);
        var raw = Parse(SharedAccessSignatures.Create("0ne0001/registrations/dev-1", "registration", key, DateTimeOffset.UtcNow.AddHours(1)));
        var encoded = Parse(SharedAccessSignatures.Create("0ne0001%2fregistrations%2fdev-1", "registration", key, DateTimeOffset.UtcNow.AddHours(1)));

        Assert.True(SharedAccessSignatures.VerifySignature(raw, key));
        Assert.True(SharedAccessSignatures.VerifySignature(encoded, key));
        Assert.Equal("0ne0001/registrations/dev-1", encoded.Resource);
        Assert.False(SharedAccessSignatures.VerifySignature(raw, Convert.ToBase64String(Enumerable.Repeat((byte)1, 32).ToArray())));
        Assert.False(SharedAccessSignatures.TryParse("Bearer abc", out var bearer, out _, out _));
        Assert.Null(bearer);
        Assert.NotNull(AuthenticationHeaderValue.Parse(SharedAccessSignatures.Create("h", "p", key, DateTimeOffset.UtcNow)));
    }
}
