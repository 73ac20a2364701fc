using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Service;

namespace CheeseCave.Emulator.Tests.Service;

public sealed class IndividualEnrollmentTests(ServiceFixture fx) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_symmetric_key_enrollment_is_created_read_updated_and_deleted()
    {
        var dps = await fx.CreateDpsAsync("hub-a", "hub-b");
        var primary = Convert.ToBase64String(new byte[32].Select((_, i) => (byte)i).ToArray());
        var body = new JsonObject
        {
            ["registrationId"] = "wheel-001",
            ["deviceId"] = "Wheel-001",
            ["attestation"] = new JsonObject { ["type"] = "symmetricKey", ["symmetricKey"] = new JsonObject { ["primaryKey"] = primary } },
            ["iotHubs"] = new JsonArray("hub-b.azure-devices.net"),
            ["allocationPolicy"] = "STATIC",
            ["capabilities"] = new JsonObject { ["iotEdge"] = true },
            ["reprovisionPolicy"] = new JsonObject { ["updateHubAssignment"] = false },
        };
        var (created, enrollment) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollments/wheel-001", body);
        ServiceAssert.Ok(created);
        Assert.Equal("wheel-001", enrollment!["registrationId"]!.GetValue<string>());
        Assert.Equal("Wheel-001", enrollment["deviceId"]!.GetValue<string>());
        Assert.Equal(primary, enrollment["attestation"]!["symmetricKey"]!["primaryKey"]!.GetValue<string>());
        Assert.Equal(64, Convert.FromBase64String(enrollment["attestation"]!["symmetricKey"]!["secondaryKey"]!.GetValue<string>()).Length);
        Assert.Equal("static", enrollment["allocationPolicy"]!.GetValue<string>());
        Assert.True(enrollment["capabilities"]!["iotEdge"]!.GetValue<bool>());
        Assert.False(enrollment["reprovisionPolicy"]!["updateHubAssignment"]!.GetValue<bool>());
        Assert.True(enrollment["reprovisionPolicy"]!["migrateDeviceData"]!.GetValue<bool>());

        var (read, readBody) = await fx.SendAsync(dps, HttpMethod.Get, "/ENROLLMENTS/Wheel-001");
        ServiceAssert.Ok(read);
        Assert.Null(readBody!["registrationState"]);
        Assert.Null(readBody["attestation"]!["symmetricKey"]!["primaryKey"]);

        var (mechanism, mechanismBody) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments/wheel-001/attestationmechanism");
        ServiceAssert.Ok(mechanism);
        Assert.Equal(primary, mechanismBody!["symmetricKey"]!["primaryKey"]!.GetValue<string>());

        body["provisioningStatus"] = "disabled";
        var (conflict, conflictBody) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollments/wheel-001", body);
        ServiceAssert.DpsError(conflict, conflictBody, HttpStatusCode.Conflict, ErrorCodes.EnrollmentExists);
        var (updated, updatedBody) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollments/wheel-001", body, ifMatch: readBody["etag"]!.GetValue<string>());
        ServiceAssert.Ok(updated);
        Assert.Equal("disabled", updatedBody!["provisioningStatus"]!.GetValue<string>());

        var (stale, staleBody) = await fx.SendAsync(dps, HttpMethod.Delete, "/enrollments/wheel-001", ifMatch: readBody["etag"]!.GetValue<string>());
        ServiceAssert.DpsError(stale, staleBody, HttpStatusCode.PreconditionFailed, ErrorCodes.PreconditionFailed);
        var (deleted, _) = await fx.SendAsync(dps, HttpMethod.Delete, "/enrollments/wheel-001", ifMatch: updatedBody["etag"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var (gone, goneBody) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments/wheel-001/attestationmechanism");
        ServiceAssert.DpsError(gone, goneBody, HttpStatusCode.NotFound, ErrorCodes.EnrollmentNotFound);
    }

    [Fact]
    public async Task An_x509_enrollment_with_a_client_certificate_and_a_tpm_enrollment_are_accepted()
    {
        var dps = await fx.CreateDpsAsync();
        var (pem, leaf) = TestCertificates.SelfSigned("press-7", ca: false);
        var (x509, x509Body) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollments/press-7", new JsonObject
        {
            ["registrationId"] = "press-7",
            ["attestation"] = new JsonObject
            {
                ["type"] = "x509",
                ["x509"] = new JsonObject { ["clientCertificates"] = new JsonObject { ["primary"] = new JsonObject { ["certificate"] = Convert.ToBase64String(leaf.RawData) } } },
            },
        });
        ServiceAssert.Ok(x509);
        Assert.Equal(leaf.Thumbprint, x509Body!["attestation"]!["x509"]!["clientCertificates"]!["primary"]!["info"]!["sha1Thumbprint"]!.GetValue<string>());
        Assert.NotEmpty(pem);

        var (tpm, tpmBody) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollments/vat-3", new JsonObject
        {
            ["attestation"] = new JsonObject { ["type"] = "tpm", ["tpm"] = new JsonObject { ["endorsementKey"] = Convert.ToBase64String(new byte[64]) } },
        });
        ServiceAssert.Ok(tpm);
        Assert.Equal("tpm", tpmBody!["attestation"]!["type"]!.GetValue<string>());
        Assert.Equal("vat-3", tpmBody["registrationId"]!.GetValue<string>());
    }

    [Fact]
    public async Task GET_shows_the_registration_state_of_a_device_that_registered_through_the_enrollment()
    {
        var dps = await fx.CreateDpsAsync("hub1");
        var (created, _) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollments/curd-9", new JsonObject { ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } });
        ServiceAssert.Ok(created);
        await fx.AddRegistrationAsync(dps, "curd-9", groupId: null);

        var (_, enrollment) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollments/curd-9");
        var state = enrollment!["registrationState"]!;
        Assert.Equal("curd-9", state["registrationId"]!.GetValue<string>());
        Assert.Equal("assigned", state["status"]!.GetValue<string>());
        Assert.Equal("hub1.azure-devices.net", state["assignedHub"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bulk_operations_on_enrollments_honour_modes_and_etags()
    {
        var dps = await fx.CreateDpsAsync();
        JsonObject Sym(string id, string? etag = null)
        {
            var item = new JsonObject { ["registrationId"] = id, ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } };
            if (etag is not null) item["etag"] = etag;
            return item;
        }

        var (response, created) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments", new JsonObject { ["mode"] = "create", ["enrollments"] = new JsonArray(Sym("e1"), Sym("e2"), Sym("Bad Id")) });
        ServiceAssert.Ok(response);
        Assert.False(created!["isSuccessful"]!.GetValue<bool>());
        var failure = created["errors"]!.AsArray().Single()!;
        Assert.Equal("Bad Id", failure["registrationId"]!.GetValue<string>());
        Assert.Equal(ErrorCodes.InvalidRegistrationId, failure["errorCode"]!.GetValue<int>());

        var (_, e1) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollments/e1");
        var etag = e1!["etag"]!.GetValue<string>();
        var (_, ifMatch) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments",
            new JsonObject { ["mode"] = "updateIfMatchETag", ["enrollments"] = new JsonArray(Sym("e1", etag), Sym("e2", "stale")) });
        var stale = ifMatch!["errors"]!.AsArray().Single()!;
        Assert.Equal("e2", stale["registrationId"]!.GetValue<string>());
        Assert.Equal(ErrorCodes.PreconditionFailed, stale["errorCode"]!.GetValue<int>());
        var (_, e1After) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollments/e1");
        Assert.NotEqual(etag, e1After!["etag"]!.GetValue<string>());

        var (_, update) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments", new JsonObject { ["mode"] = "update", ["enrollments"] = new JsonArray(Sym("e2"), Sym("e4")) });
        Assert.True(update!["isSuccessful"]!.GetValue<bool>());

        var tooMany = new JsonArray([.. Enumerable.Range(0, 11).Select(i => (JsonNode)Sym($"x{i}"))]);
        var (tooManyResponse, tooManyBody) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments", new JsonObject { ["mode"] = "create", ["enrollments"] = tooMany });
        ServiceAssert.DpsError(tooManyResponse, tooManyBody, HttpStatusCode.BadRequest, ErrorCodes.InvalidBulkOperation);
        var (badMode, badModeBody) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollments", new JsonObject { ["mode"] = "merge", ["enrollments"] = new JsonArray(Sym("e9")) });
        ServiceAssert.DpsError(badMode, badModeBody, HttpStatusCode.BadRequest, ErrorCodes.InvalidBulkOperation);
    }

    [Fact]
    public async Task Unknown_operations_on_the_service_paths_answer_in_the_DPS_error_shape()
    {
        var dps = await fx.CreateDpsAsync();
        var (patch, patchBody) = await fx.SendAsync(dps, HttpMethod.Patch, "/enrollments/x1", new JsonObject());
        ServiceAssert.DpsError(patch, patchBody, HttpStatusCode.MethodNotAllowed, ErrorCodes.MethodNotAllowed);
        var (deep, deepBody) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollments/x1/a/b");
        ServiceAssert.DpsError(deep, deepBody, HttpStatusCode.NotFound, ErrorCodes.NoSuchResource);
    }
}
