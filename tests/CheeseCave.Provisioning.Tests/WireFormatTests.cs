using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Identity;
using Azure.ResourceManager;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;
using Microsoft.Extensions.Time.Testing;

namespace CheeseCave.Provisioning.Tests;

/// <summary>Wire details that need no emulator: SAS, the enrollment JSON shape, the classifier, the Azure target.</summary>
public sealed class WireFormatTests
{
    [Fact]
    public void An_enrollment_group_serializes_in_the_wire_shape_of_the_service_API()
    {
        var group = new EnrollmentGroup
        {
            EnrollmentGroupId = "cave-devices",
            Attestation = AttestationMechanism.FromCaReferences("cave-root"),
            IotHubs = ["cave-hub.azure-devices.net"],
            AllocationPolicy = AllocationPolicy.GeoLatency,
            ReprovisionPolicy = new ReprovisionPolicy { UpdateHubAssignment = true, MigrateDeviceData = false },
            InitialTwin = new InitialTwin { Tags = new JsonObject { ["cave"] = "roquefort" }, Properties = new InitialTwinProperties { Desired = new JsonObject { ["humidity"] = 95 } } },
            Capabilities = new DeviceCapabilities { IotEdge = false },
            ProvisioningStatus = ProvisioningStatus.Enabled,
        };

        var json = JsonSerializer.Serialize(group, DpsJson.Options);

        Assert.Equal(
            """{"enrollmentGroupId":"cave-devices","attestation":{"type":"x509","x509":{"caReferences":{"primary":"cave-root"}}},"capabilities":{"iotEdge":false},"iotHubs":["cave-hub.azure-devices.net"],"allocationPolicy":"geoLatency","reprovisionPolicy":{"updateHubAssignment":true,"migrateDeviceData":false},"initialTwin":{"tags":{"cave":"roquefort"},"properties":{"desired":{"humidity":95}}},"provisioningStatus":"enabled"}""",
            json);
    }

    [Fact]
    public void A_service_answer_deserializes_with_its_etag_kept_internal()
    {
        const string Body = """
            {"enrollmentGroupId":"g","attestation":{"type":"symmetricKey","symmetricKey":{"primaryKey":null,"secondaryKey":null}},
             "allocationPolicy":"hashed","provisioningStatus":"disabled","etag":"AAAAAAE=","createdDateTimeUtc":"2025-10-01T17:42:05.495Z"}
            """;

        var group = JsonSerializer.Deserialize<EnrollmentGroup>(Body, DpsJson.Options)!;

        Assert.Equal(AttestationMechanismType.SymmetricKey, group.Attestation.Type);
        Assert.Equal(ProvisioningStatus.Disabled, group.ProvisioningStatus);
        Assert.Equal(AllocationPolicy.Hashed, group.AllocationPolicy);
        Assert.Equal("AAAAAAE=", group.ETag);
        Assert.Null(typeof(EnrollmentGroup).GetProperty("ETag")); // not public: callers never see etags
        Assert.Equal(new DateTimeOffset(2025, 10, 1, 17, 42, 5, 495, TimeSpan.Zero), group.CreatedDateTimeUtc);

        var state = JsonSerializer.Deserialize<DeviceRegistrationState>(
            """{"registrationId":"r","status":"assigned","substatus":"reprovisionedToInitialAssignment","assignedHub":"h","errorCode":401002}""", DpsJson.Options)!;
        Assert.Equal(RegistrationSubstatus.ReprovisionedToInitialAssignment, state.Substatus);
        Assert.Equal(401002, state.ErrorCode);
    }

    [Fact]
    public async Task Every_service_request_carries_a_fresh_SAS_signed_over_the_host_as_given_with_one_hour_expiry()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var sent = new List<HttpRequestMessage>();
        var connection = ProvisioningConnection.ForAzure(new StaticTokenCredential("unused"));
        using var service = new DpsServiceClient($"HostName=localhost:5543;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey={key}", connection,
            new DpsServiceClientOptions
            {
                TimeProvider = time,
                Retry = TestEmulator.FastRetry(0),
                WrapHandler = _ => new StubHandler(request =>
                {
                    sent.Add(request);
                    return new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("""{"errorCode":404201,"trackingId":"t-1","message":"nope"}""", Encoding.UTF8, "application/json") };
                }),
            });

        Assert.Null(await service.GetEnrollmentGroupAsync("cave devices"));
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(await service.GetDeviceRegistrationStateAsync("dev-1"));

        Assert.Equal("https://localhost:5543/enrollmentGroups/cave%20devices?api-version=2021-10-01", sent[0].RequestUri!.AbsoluteUri);
        var tokens = sent.Select(r => r.Headers.GetValues("Authorization").Single()).ToList();
        for (var i = 0; i < 2; i++)
        {
            var fields = tokens[i]["SharedAccessSignature ".Length..].Split('&').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
            Assert.Equal("localhost:5543", fields["sr"]);
            Assert.Equal("provisioningserviceowner", fields["skn"]);
            var expiry = time.GetUtcNow().AddMinutes(i == 0 ? -10 : 0).AddHours(1).ToUnixTimeSeconds();
            Assert.Equal(expiry.ToString(System.Globalization.CultureInfo.InvariantCulture), fields["se"]);
            var expected = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(key), Encoding.UTF8.GetBytes($"localhost:5543\n{expiry}")));
            Assert.Equal(expected, WebUtility.UrlDecode(fields["sig"]));
        }
    }

    [Fact]
    public void The_classifier_reads_DPS_and_ARM_error_bodies()
    {
        var dps = ProvisioningErrorClassifier.FromResponse(ProvisioningSurface.Device, 401,
            """{"errorCode":401002,"trackingId":"track-1","message":"Chain incomplete.","info":{"reason":"missingChainElements","presented":["CN=a"]}}""",
            name => name == "x-ms-request-id" ? "req-1" : null, "client-1", "register device 'a'");
        Assert.Equal("401002", dps.ServiceErrorCode);
        Assert.Equal("track-1", dps.CorrelationId);
        Assert.Equal("Could not register device 'a': Chain incomplete.", dps.Message);
        Assert.Equal("missingChainElements", dps.Info["reason"]);
        Assert.Equal("""["CN=a"]""", dps.Info["presented"]);
        Assert.False(dps.IsTransient);

        var arm = ProvisioningErrorClassifier.FromResponse(ProvisioningSurface.Arm, 503, """{"code":"ServiceUnavailable","message":"Busy."}""",
            name => name switch { "x-ms-request-id" => "req-2", "Retry-After" => "7", _ => null }, "client-2", "read DPS 'x'");
        Assert.Equal("ServiceUnavailable", arm.ServiceErrorCode);
        Assert.Equal("req-2", arm.CorrelationId);
        Assert.Equal(TimeSpan.FromSeconds(7), arm.RetryAfter);
        Assert.True(arm.IsTransient);

        var changed = ProvisioningErrorClassifier.FromResponse(ProvisioningSurface.Service, 412, null, null, "client-3", "update enrollment group 'g'");
        Assert.IsType<ResourceChangedException>(changed);
        Assert.Equal("client-3", changed.CorrelationId);
        Assert.Contains("read it again", changed.Message, StringComparison.Ordinal);

        Assert.True(ProvisioningErrorClassifier.FromException(ProvisioningSurface.Service, new HttpRequestException("reset"), null, "x")!.IsTransient);
        Assert.True(ProvisioningErrorClassifier.FromException(ProvisioningSurface.Service, new IOException("reset"), null, "x")!.IsTransient);
        Assert.True(ProvisioningErrorClassifier.FromException(ProvisioningSurface.Service, new TaskCanceledException("timeout"), null, "x")!.IsTransient);
        Assert.False(ProvisioningErrorClassifier.FromException(ProvisioningSurface.Service,
            new HttpRequestException("tls", new System.Security.Authentication.AuthenticationException("bad cert")), null, "x")!.IsTransient);
        Assert.Null(ProvisioningErrorClassifier.FromException(ProvisioningSurface.Service, new InvalidOperationException("bug"), null, "x"));
        foreach (var status in new[] { 408, 429, 500, 502, 503, 504 }) Assert.True(ProvisioningErrorClassifier.IsTransientStatus(status));
        foreach (var status in new[] { 400, 401, 403, 404, 409, 412 }) Assert.False(ProvisioningErrorClassifier.IsTransientStatus(status));
    }

    [Fact]
    public void Backoff_grows_exponentially_with_jitter_and_never_undercuts_retry_after()
    {
        var options = new ProvisioningRetryOptions { Delay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), MaxRetryAfter = TimeSpan.FromSeconds(30) };
        for (var i = 0; i < 50; i++)
        {
            var first = RetryLoop.DelayFor(options, 0, null);
            Assert.InRange(first.TotalMilliseconds, 80, 120);
            Assert.InRange(RetryLoop.DelayFor(options, 2, null).TotalMilliseconds, 320, 480);
            Assert.Equal(TimeSpan.FromSeconds(1), RetryLoop.DelayFor(options, 20, null));
        }

        Assert.Equal(TimeSpan.FromSeconds(5), RetryLoop.DelayFor(options, 0, TimeSpan.FromSeconds(5)));
        Assert.Equal(TimeSpan.FromSeconds(30), RetryLoop.DelayFor(options, 0, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void The_Azure_target_is_public_cloud_with_system_trust_and_the_given_credential()
    {
        var user = new StaticTokenCredential("signed-in-user-token");
        var azure = ProvisioningConnection.ForAzure(user, "11111111-2222-3333-4444-555555555555");
        Assert.Equal(ProvisioningTarget.Azure, azure.Target);
        Assert.Equal(ArmEnvironment.AzurePublicCloud, azure.ArmEnvironment);
        Assert.Same(user, azure.Credential);
        Assert.Null(azure.TrustedRoots);
        Assert.Equal("global.azure-devices-provisioning.net", azure.DeviceProvisioningHost);
        Assert.Equal("global.azure-devices-provisioning.net:8883", azure.MqttHost);
        Assert.Equal("11111111-2222-3333-4444-555555555555", azure.SubscriptionId);
        Assert.IsType<DefaultAzureCredential>(ProvisioningConnection.ForAzure().Credential);
        Assert.Equal("signed-in-user-token", user.GetToken(new TokenRequestContext(["https://management.azure.com//.default"]), default).Token);
        Assert.DoesNotContain("signed-in-user-token", user.ToString(), StringComparison.Ordinal);

        var http = Assert.Throws<ArgumentException>(() => ProvisioningConnection.ForEmulator(new EmulatorConnectionSettings
        {
            ArmEndpoint = new Uri("http://localhost:5543"), SubscriptionId = "s", BearerToken = "t", TrustBundlePem = "x",
        }));
        Assert.Contains("https", http.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connection_strings_and_policies_never_show_keys()
    {
        var policy = new AccessPolicyInfo("iothubowner", ["RegistryWrite", "ServiceConnect", "DeviceConnect"], "cHJpbWFyeQ==", "c2Vjb25kYXJ5");
        Assert.Equal("HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=cHJpbWFyeQ==", policy.ToConnectionString("h.azure-devices.net"));
        Assert.DoesNotContain("cHJpbWFyeQ==", policy.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("cHJpbWFyeQ==", new LinkIotHubOptions(policy.ToConnectionString("h"), "eastus").ToString(), StringComparison.Ordinal);

        var selected = ArmProvisioningClient.SelectProvisioningPolicies(
        [
            new AccessPolicyInfo("registryReadWrite", ["RegistryWrite"], "k", "k"),
            new AccessPolicyInfo("aaa-custom", ["RegistryWrite", "ServiceConnect"], "k", "k"),
            policy,
            new AccessPolicyInfo("service", ["ServiceConnect"], "k", "k"),
        ]);
        Assert.Equal(["iothubowner", "aaa-custom"], selected.Select(p => p.KeyName));

        Assert.Throws<FormatException>(() => DpsServiceConnectionString.Parse("HostName=x;SharedAccessKeyName=y"));
        Assert.Throws<FormatException>(() => DpsServiceConnectionString.Parse("HostName=x;SharedAccessKeyName=y;SharedAccessKey=not base64!"));
    }

    private sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromResult(answer(request));
    }
}
