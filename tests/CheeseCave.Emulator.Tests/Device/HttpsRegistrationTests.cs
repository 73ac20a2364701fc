using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace CheeseCave.Emulator.Tests.Device;

/// <summary>X.509 registration over HTTPS with a real TLS handshake: chain rules, refusals and enrollment precedence.</summary>
public sealed class HttpsRegistrationTests
{
    [Fact]
    public async Task Device_under_a_root_group_sending_leaf_and_intermediate_is_assigned_recorded_and_created_in_the_hub()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca", iotEdge: true));
        var device = pki.IssueDevice("cave-sensor-001");

        var (status, body, _) = await env.RegisterAsync(device);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("assigned", body.Str("status"));
        Assert.False(string.IsNullOrEmpty(body.Str("operationId")));
        var state = body["registrationState"]!;
        Assert.Equal("cave-sensor-001", state.Str("registrationId"));
        Assert.Equal("cave-hub.azure-devices.net", state.Str("assignedHub"));
        Assert.Equal("cave-sensor-001", state.Str("deviceId"));
        Assert.Equal("initialAssignment", state.Str("substatus"));
        Assert.Equal("cave-group", state.Str("x509", "enrollmentGroupId"));
        Assert.Equal(device.Certificate.Thumbprint, state.Str("x509", "certificateInfo", "sha1Thumbprint"));
        Assert.Equal(pki.Root.Certificate.Subject, state.Str("x509", "signingCertificateInfo", "subjectName"));

        var record = env.Registration("cave-sensor-001");
        Assert.NotNull(record);
        Assert.Equal(("assigned", "initialAssignment", "cave-group", "cave-hub.azure-devices.net"), (record.Status, record.Substatus, record.EnrollmentGroupId, record.AssignedHub));
        Assert.Equal(device.Certificate.Thumbprint, record.Sha1Thumbprint);

        var hubDevice = env.HubDevice("cave-hub", "cave-sensor-001");
        Assert.NotNull(hubDevice);
        Assert.Equal("selfSigned", hubDevice.AuthenticationType);
        Assert.Equal(DeviceTestEnvironment.Sha256(device.Certificate), hubDevice.PrimaryThumbprint);
        Assert.Equal(hubDevice.PrimaryThumbprint, hubDevice.SecondaryThumbprint);
        Assert.True(hubDevice.IotEdge);
        Assert.Equal("roquefort", hubDevice.Tags["cave"]!.GetValue<string>());
        Assert.Equal(95, hubDevice.Desired["humidity"]!.GetValue<int>());
        Assert.False(hubDevice.Desired.ContainsKey("$version"));
    }

    [Fact]
    public async Task Leaf_only_with_an_intermediate_in_between_is_refused_with_missingChainElements()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var device = pki.IssueDevice("cave-sensor-002");

        var (status, body, response) = await env.RegisterAsync(device, sendIntermediates: false);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal(401002, body["errorCode"]!.GetValue<int>());
        Assert.Equal("401002", response.Headers.GetValues("x-ms-error-code").Single());
        Assert.Equal("missingChainElements", body.Str("info", "reason"));
        Assert.Equal(pki.Intermediate.Certificate.Subject, body.Str("info", "missing"));
        Assert.Equal([device.Certificate.Subject], body["info"]!["presented"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Contains("sent only its leaf", body.Str("info", "hint"), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(body.Str("trackingId")));
        Assert.Null(env.Registration("cave-sensor-002"));
    }

    [Fact]
    public async Task A_chain_reaching_an_unverified_CA_is_refused_with_caNotVerified()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: false);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));

        var (status, body, _) = await env.RegisterAsync(pki.IssueDevice("cave-sensor-003"));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("caNotVerified", body.Str("info", "reason"));
        Assert.Equal("root-ca", body.Str("info", "certificateName"));
        Assert.Contains("verif", body.Str("info", "hint"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_CA_unknown_to_the_DPS_is_refused_with_caNotUploaded()
    {
        using var pki = new TestPki();
        using var other = new TestPki("Other");
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var device = other.IssueDevice("cave-sensor-004");

        // A Node device sends whatever its PEM holds, root included (.NET trims the root from the handshake), so
        // this one goes to the transport-independent engine directly.
        var engine = new RegistrationEngine(env.Harness.Server.Context);
        var peer = new PeerCertificates(device.Certificate, [device.Certificate, .. device.Intermediates, other.Root.Certificate]);
        var result = await engine.RegisterAsync(new DeviceRequest(env.IdScope, device.RegistrationId, peer, null, null));

        Assert.Equal(401, result.Status);
        Assert.Equal("caNotUploaded", result.Error!.Info.Str("reason"));
        Assert.Equal(3, result.Error.Info["presented"]!.AsArray().Count);
        Assert.Contains(other.Root.Certificate.Subject, result.Error.Info.Str("hint"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_registration_id_different_from_the_CN_is_refused_but_case_is_ignored()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var device = pki.IssueDevice("cave-sensor-005");

        var (status, body, _) = await env.RegisterAsync(device, registrationId: "cave-sensor-999");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("cnMismatch", body.Str("info", "reason"));
        Assert.Equal("cave-sensor-005", body.Str("info", "leafCommonName"));

        var (upper, upperBody, _) = await env.RegisterAsync(device, registrationId: "CAVE-SENSOR-005");
        Assert.Equal(HttpStatusCode.OK, upper);
        Assert.Equal("cave-sensor-005", upperBody.Str("registrationState", "registrationId"));
        Assert.Equal("cave-sensor-005", upperBody.Str("registrationState", "deviceId"));
    }

    [Fact]
    public async Task A_device_without_a_client_certificate_is_refused()
    {
        await using var env = await DeviceTestEnvironment.StartAsync();
        using var client = env.DeviceClient(null);

        var (status, body, _) = await env.RegisterWithAsync(client, "cave-sensor-006");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal(401002, body["errorCode"]!.GetValue<int>());
        Assert.Equal("noCredentials", body.Str("info", "reason"));
    }

    [Fact]
    public async Task An_unknown_id_scope_is_refused_with_a_plain_message()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        using var client = env.DeviceClient(pki.IssueDevice("cave-sensor-007"));

        var response = await client.PutAsync($"/0neFFFFFFFF/registrations/cave-sensor-007/register?api-version=2019-03-31", EmulatorHarness.Json(new JsonObject()));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await EmulatorHarness.ReadJsonAsync(response);
        Assert.Equal("unknownIdScope", body.Str("info", "reason"));
        Assert.Contains("0neFFFFFFFF", body.Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_device_certificate_is_refused()
    {
        var past = new FakeTimeProvider(DateTimeOffset.UtcNow.AddYears(-2));
        using var pki = new TestPki("Old", past);
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));

        var (status, body, _) = await env.RegisterAsync(pki.IssueDevice("cave-sensor-008", validity: TimeSpan.FromDays(30)));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("certificateExpired", body.Str("info", "reason"));
    }

    [Fact]
    public async Task A_disabled_group_refuses_with_status_disabled_and_creates_no_hub_device()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca", enabled: false));

        var (status, body, _) = await env.RegisterAsync(pki.IssueDevice("cave-sensor-009"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("disabled", body.Str("status"));
        Assert.Equal("disabled", body.Str("registrationState", "status"));
        Assert.Contains("disabled", body.Str("registrationState", "errorMessage"), StringComparison.Ordinal);
        Assert.Null(body["registrationState"]!["assignedHub"]);
        Assert.Equal("disabled", env.Registration("cave-sensor-009")!.Status);
        Assert.Null(env.HubDevice("cave-hub", "cave-sensor-009"));
    }

    [Fact]
    public async Task An_individual_enrollment_takes_precedence_over_the_group()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync(hubs: [("hub-a", "westeurope", 1), ("hub-b", "westeurope", 1)]);
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca", iotHubs: ["hub-a"]));
        var device = pki.IssueDevice("cave-sensor-010");
        await env.PutEnrollmentAsync(new JsonObject
        {
            ["registrationId"] = "cave-sensor-010",
            ["deviceId"] = "vat-7",
            ["attestation"] = new JsonObject
            {
                ["type"] = "x509",
                ["x509"] = new JsonObject { ["clientCertificates"] = new JsonObject { ["primary"] = new JsonObject { ["certificate"] = device.PublicPem } } },
            },
            ["iotHubs"] = new JsonArray("hub-b.azure-devices.net"),
            ["provisioningStatus"] = "enabled",
        });

        // Even a leaf-only handshake is enough: the individual enrollment pins the certificate itself.
        var (status, body, _) = await env.RegisterAsync(device, sendIntermediates: false);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("hub-b.azure-devices.net", body.Str("registrationState", "assignedHub"));
        Assert.Equal("vat-7", body.Str("registrationState", "deviceId"));
        Assert.Null(body["registrationState"]!["x509"]!["enrollmentGroupId"]);
        Assert.NotNull(env.HubDevice("hub-b", "vat-7"));
        Assert.Null(env.Registration("cave-sensor-010")!.EnrollmentGroupId);
    }

    [Fact]
    public async Task A_disabled_individual_enrollment_blocks_one_device_of_an_enabled_group()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var blocked = pki.IssueDevice("cave-sensor-011");
        await env.PutEnrollmentAsync(new JsonObject
        {
            ["registrationId"] = "cave-sensor-011",
            ["attestation"] = new JsonObject
            {
                ["type"] = "x509",
                ["x509"] = new JsonObject { ["clientCertificates"] = new JsonObject { ["primary"] = new JsonObject { ["certificate"] = blocked.PublicPem } } },
            },
            ["provisioningStatus"] = "disabled",
        });

        var (_, body, _) = await env.RegisterAsync(blocked);
        var (_, sibling, _) = await env.RegisterAsync(pki.IssueDevice("cave-sensor-012"));

        Assert.Equal("disabled", body.Str("status"));
        Assert.Equal("assigned", sibling.Str("status"));
    }

    [Fact]
    public async Task An_individual_enrollment_with_another_certificate_refuses_instead_of_falling_back_to_the_group()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var old = pki.IssueDevice("cave-sensor-013");
        await env.PutEnrollmentAsync(new JsonObject
        {
            ["registrationId"] = "cave-sensor-013",
            ["attestation"] = new JsonObject
            {
                ["type"] = "x509",
                ["x509"] = new JsonObject { ["clientCertificates"] = new JsonObject { ["primary"] = new JsonObject { ["info"] = new JsonObject { ["sha1Thumbprint"] = old.Certificate.Thumbprint } } } },
            },
        });

        var (oldStatus, _, _) = await env.RegisterAsync(old);
        var (status, body, _) = await env.RegisterAsync(pki.IssueDevice("cave-sensor-013"));

        Assert.Equal(HttpStatusCode.OK, oldStatus);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("certificateMismatch", body.Str("info", "reason"));
    }

    [Fact]
    public async Task The_group_of_the_intermediate_takes_precedence_over_the_group_of_the_root()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync(hubs: [("hub-a", "westeurope", 1), ("hub-b", "westeurope", 1)]);
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.AddCertificateAsync("intermediate-ca", pki.Intermediate.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("root-group", "root-ca", iotHubs: ["hub-a"]));
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("intermediate-group", "intermediate-ca", iotHubs: ["hub-b"]));
        var direct = pki.IssueDevice("cave-sensor-014", pki.Root);

        var (_, viaIntermediate, _) = await env.RegisterAsync(pki.IssueDevice("cave-sensor-015"));
        var (_, viaRoot, _) = await env.RegisterAsync(direct);

        Assert.Equal("intermediate-group", viaIntermediate.Str("registrationState", "x509", "enrollmentGroupId"));
        Assert.Equal("hub-b.azure-devices.net", viaIntermediate.Str("registrationState", "assignedHub"));
        Assert.Equal("root-group", viaRoot.Str("registrationState", "x509", "enrollmentGroupId"));
        Assert.Equal("hub-a.azure-devices.net", viaRoot.Str("registrationState", "assignedHub"));
    }

    [Fact]
    public async Task A_verified_chain_without_a_matching_enrollment_is_refused_with_noEnrollment()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);

        var (status, body, _) = await env.RegisterAsync(pki.IssueDevice("cave-sensor-016"));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("noEnrollment", body.Str("info", "reason"));
        Assert.Equal("root-ca", body.Str("info", "verifiedCertificate"));
    }

    [Fact]
    public async Task The_operation_can_be_polled_and_the_registration_status_looked_up()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var device = pki.IssueDevice("cave-sensor-017");
        using var client = env.DeviceClient(device);
        var (_, registered, _) = await env.RegisterWithAsync(client, device.RegistrationId);
        var operationId = registered.Str("operationId");

        // The Node SDK sends "{}" with the GET.
        using var poll = new HttpRequestMessage(HttpMethod.Get, $"/{env.IdScope}/registrations/cave-sensor-017/operations/{operationId}?api-version=2019-03-31")
        {
            Content = EmulatorHarness.Json(new JsonObject()),
        };
        var polled = await client.SendAsync(poll);
        Assert.Equal(HttpStatusCode.OK, polled.StatusCode);
        Assert.Equal(registered.ToJsonString(), (await EmulatorHarness.ReadJsonAsync(polled))!.ToJsonString());

        var unknown = await client.GetAsync($"/{env.IdScope}/registrations/cave-sensor-017/operations/4.0000.nope?api-version=2019-03-31");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/json", unknown.Content.Headers.ContentType?.MediaType);

        var lookup = await client.PostAsync($"/{env.IdScope}/registrations/cave-sensor-017?api-version=2021-06-01", EmulatorHarness.Json(new JsonObject { ["registrationId"] = "cave-sensor-017" }));
        Assert.Equal(HttpStatusCode.OK, lookup.StatusCode);
        var state = await EmulatorHarness.ReadJsonAsync(lookup);
        Assert.Equal("assigned", state.Str("status"));
        Assert.Equal(registered.Str("registrationState", "etag"), state.Str("etag"));
    }
}
