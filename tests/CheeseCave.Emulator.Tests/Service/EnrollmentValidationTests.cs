using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Service;

namespace CheeseCave.Emulator.Tests.Service;

public sealed class EnrollmentValidationTests(ServiceFixture fx) : IClassFixture<ServiceFixture>
{
    private static JsonObject Symmetric(Action<JsonObject>? change = null)
    {
        var body = new JsonObject { ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } };
        change?.Invoke(body);
        return body;
    }

    private async Task<string> AssertBadRequestAsync(TestDps dps, string path, JsonNode? body, int errorCode)
    {
        var (response, error) = await fx.SendAsync(dps, HttpMethod.Put, path, body);
        ServiceAssert.DpsError(response, error, HttpStatusCode.BadRequest, errorCode);
        Assert.DoesNotContain(fx.Store.Enrollments.All, e => e.Dps == dps.Name);
        return ServiceAssert.Message(error);
    }

    [Fact]
    public async Task A_ca_reference_to_a_certificate_the_DPS_does_not_have_is_refused_naming_it()
    {
        var dps = await fx.CreateDpsAsync();
        var (_, root) = TestCertificates.SelfSigned("known-root");
        await fx.AddCertificateAsync(dps, "known-root", root);
        var other = await fx.CreateDpsAsync();
        await fx.AddCertificateAsync(other, "elsewhere", root);

        foreach (var name in new[] { "missing-root", "elsewhere" })
        {
            var message = await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", new JsonObject
            {
                ["attestation"] = new JsonObject { ["type"] = "x509", ["x509"] = new JsonObject { ["caReferences"] = new JsonObject { ["primary"] = name } } },
            }, ErrorCodes.CaCertificateNotFound);
            Assert.Contains(name, message, StringComparison.Ordinal);
            Assert.Contains("known-root", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_hub_not_linked_to_the_DPS_is_refused_naming_it()
    {
        var dps = await fx.CreateDpsAsync("hub1");
        var message = await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", Symmetric(b => b["iotHubs"] = new JsonArray("hub1.azure-devices.net", "rogue.azure-devices.net")), ErrorCodes.IotHubNotLinked);
        Assert.Contains("rogue.azure-devices.net", message, StringComparison.Ordinal);
        await AssertBadRequestAsync(dps, "/enrollments/d1", Symmetric(b => b["iotHubHostName"] = "rogue.azure-devices.net"), ErrorCodes.IotHubNotLinked);
    }

    [Theory]
    [InlineData("/enrollmentGroups/ends-with-dot.", 400003)]
    [InlineData("/enrollmentGroups/has%20space", 400003)]
    [InlineData("/enrollments/slash%2Fin-id", 400004)]
    [InlineData("/enrollments/under_score_", 400004)]
    [InlineData("/enrollments/semi;colon", 400004)]
    public async Task Ids_outside_the_DPS_rules_are_refused(string path, int errorCode)
    {
        var dps = await fx.CreateDpsAsync();
        await AssertBadRequestAsync(dps, path, Symmetric(), errorCode);
    }

    [Fact]
    public async Task Ids_at_the_edges_of_the_rules_are_accepted()
    {
        var dps = await fx.CreateDpsAsync();
        foreach (var id in new[] { "a", "A.b_c:d-", new string('x', 128), "0ne:device.1_2-3" })
        {
            var (response, _) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollments/" + Uri.EscapeDataString(id), Symmetric());
            ServiceAssert.Ok(response);
        }

        await AssertBadRequestAsyncAllowingExisting(dps, "/enrollments/" + new string('x', 129), Symmetric(), ErrorCodes.InvalidRegistrationId);
    }

    [Fact]
    public async Task The_body_id_must_match_the_URL()
    {
        var dps = await fx.CreateDpsAsync();
        await AssertBadRequestAsync(dps, "/enrollments/d1", Symmetric(b => b["registrationId"] = "d2"), ErrorCodes.IdMismatch);
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", Symmetric(b => b["enrollmentGroupId"] = "g2"), ErrorCodes.IdMismatch);
    }

    [Theory]
    [InlineData("round-robin")]
    [InlineData("")]
    public async Task An_unknown_allocation_policy_is_refused(string policy)
    {
        var dps = await fx.CreateDpsAsync();
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", Symmetric(b => b["allocationPolicy"] = policy), ErrorCodes.InvalidAllocationPolicy);
    }

    [Fact]
    public async Task Static_allocation_needs_exactly_one_hub_and_custom_needs_a_webhook()
    {
        var dps = await fx.CreateDpsAsync("hub1", "hub2");
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1",
            Symmetric(b => { b["allocationPolicy"] = "static"; b["iotHubs"] = new JsonArray("hub1.azure-devices.net", "hub2.azure-devices.net"); }), ErrorCodes.InvalidAllocationPolicy);
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", Symmetric(b => b["allocationPolicy"] = "custom"), ErrorCodes.InvalidAllocationPolicy);

        var (custom, body) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/g1", Symmetric(b =>
        {
            b["allocationPolicy"] = "Custom";
            b["customAllocationDefinition"] = new JsonObject { ["webhookUrl"] = "https://alloc.example.com/api/pick", ["apiVersion"] = "2021-10-01" };
        }));
        ServiceAssert.Ok(custom);
        Assert.Equal("custom", body!["allocationPolicy"]!.GetValue<string>());
        Assert.Equal("https://alloc.example.com/api/pick", body["customAllocationDefinition"]!["webhookUrl"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AAAAAAAAAAAAAAAAAAAA")] // 15 bytes
    public async Task A_symmetric_key_that_is_not_base64_of_16_to_64_bytes_is_refused(string key)
    {
        var dps = await fx.CreateDpsAsync();
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", new JsonObject
        {
            ["attestation"] = new JsonObject { ["type"] = "symmetricKey", ["symmetricKey"] = new JsonObject { ["primaryKey"] = key } },
        }, ErrorCodes.InvalidSymmetricKey);
    }

    [Fact]
    public async Task A_symmetric_key_of_65_bytes_is_refused()
    {
        var dps = await fx.CreateDpsAsync();
        await AssertBadRequestAsync(dps, "/enrollments/d1", new JsonObject
        {
            ["attestation"] = new JsonObject { ["type"] = "symmetricKey", ["symmetricKey"] = new JsonObject { ["secondaryKey"] = Convert.ToBase64String(new byte[65]) } },
        }, ErrorCodes.InvalidSymmetricKey);
    }

    [Fact]
    public async Task Attestation_must_be_given_and_fit_the_enrollment_kind()
    {
        var dps = await fx.CreateDpsAsync();
        var pem = TestCertificates.SelfSigned("c").Pem;
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", new JsonObject(), ErrorCodes.InvalidAttestation);
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", new JsonObject { ["attestation"] = new JsonObject() }, ErrorCodes.InvalidAttestation);
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", new JsonObject { ["attestation"] = new JsonObject { ["type"] = "none" } }, ErrorCodes.InvalidAttestation);
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1",
            new JsonObject { ["attestation"] = new JsonObject { ["type"] = "tpm", ["tpm"] = new JsonObject { ["endorsementKey"] = "AAAA" } } }, ErrorCodes.InvalidAttestation);
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", new JsonObject { ["attestation"] = new JsonObject { ["type"] = "x509" } }, ErrorCodes.InvalidAttestation);
        await AssertBadRequestAsync(dps, "/enrollmentGroups/g1", new JsonObject
        {
            ["attestation"] = new JsonObject
            {
                ["type"] = "x509",
                ["x509"] = new JsonObject { ["clientCertificates"] = new JsonObject { ["primary"] = new JsonObject { ["certificate"] = pem } } },
            },
        }, ErrorCodes.InvalidAttestation);
        await AssertBadRequestAsync(dps, "/enrollments/d1", new JsonObject { ["attestation"] = new JsonObject { ["type"] = "tpm" } }, ErrorCodes.InvalidAttestation);
    }

    [Fact]
    public async Task Other_fields_are_checked_with_plain_messages()
    {
        var dps = await fx.CreateDpsAsync();
        await AssertBadRequestAsync(dps, "/enrollments/d1", Symmetric(b => b["provisioningStatus"] = "paused"), ErrorCodes.InvalidEnrollmentField);
        await AssertBadRequestAsync(dps, "/enrollments/d1", Symmetric(b => b["capabilities"] = new JsonObject { ["iotEdge"] = "yes" }), ErrorCodes.InvalidEnrollmentField);
        await AssertBadRequestAsync(dps, "/enrollments/d1", Symmetric(b => b["initialTwin"] = new JsonObject { ["tags"] = new JsonArray() }), ErrorCodes.InvalidEnrollmentField);
        await AssertBadRequestAsync(dps, "/enrollments/d1",
            Symmetric(b => b["initialTwin"] = new JsonObject { ["properties"] = new JsonObject { ["desired"] = "warm" } }), ErrorCodes.InvalidEnrollmentField);
        await AssertBadRequestAsync(dps, "/enrollments/d1", Symmetric(b => b["deviceId"] = "has space"), ErrorCodes.InvalidEnrollmentField);
        await AssertBadRequestAsync(dps, "/enrollments/d1", Symmetric(b => b["provisioningStatus"] = 1), ErrorCodes.InvalidRequestBody);

        using var request = new HttpRequestMessage(HttpMethod.Put, "/enrollments/d1?api-version=2021-10-01")
        {
            Content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", fx.OwnerToken(dps));
        var response = await fx.Client.SendAsync(request);
        ServiceAssert.DpsError(response, await EmulatorHarness.ReadJsonAsync(response), HttpStatusCode.BadRequest, ErrorCodes.InvalidRequestBody);

        using var duplicate = new HttpRequestMessage(HttpMethod.Put, "/enrollments/d1?api-version=2021-10-01")
        {
            Content = new StringContent("{\"attestation\": {\"type\": \"symmetricKey\", \"Type\": \"tpm\"}}", System.Text.Encoding.UTF8, "application/json"),
        };
        duplicate.Headers.TryAddWithoutValidation("Authorization", fx.OwnerToken(dps));
        var duplicateResponse = await fx.Client.SendAsync(duplicate);
        ServiceAssert.DpsError(duplicateResponse, await EmulatorHarness.ReadJsonAsync(duplicateResponse), HttpStatusCode.BadRequest, ErrorCodes.InvalidRequestBody);
    }

    private async Task AssertBadRequestAsyncAllowingExisting(TestDps dps, string path, JsonNode body, int errorCode)
    {
        var (response, error) = await fx.SendAsync(dps, HttpMethod.Put, path, body);
        ServiceAssert.DpsError(response, error, HttpStatusCode.BadRequest, errorCode);
    }
}
