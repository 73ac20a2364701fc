using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DpsService;
using Microsoft.Extensions.Time.Testing;
using CheeseCave.Provisioning.Tests.Infrastructure;

namespace CheeseCave.Provisioning.Tests.DpsService;

/// <summary>The service API on the wire, no emulator needed: the enrollment JSON shape, answers with their etag, and SAS.</summary>
public sealed class ServiceWireFormatTests
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

    private sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromResult(answer(request));
    }
}
