using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Service;

namespace CheeseCave.Emulator.Tests.Service;

public sealed class EnrollmentGroupTests(ServiceFixture fx) : IClassFixture<ServiceFixture>
{
    private static JsonObject CaGroup(string id, string certificateName, string status = "enabled") => new()
    {
        ["enrollmentGroupId"] = id,
        ["attestation"] = new JsonObject { ["type"] = "x509", ["x509"] = new JsonObject { ["caReferences"] = new JsonObject { ["primary"] = certificateName } } },
        ["provisioningStatus"] = status,
    };

    [Fact]
    public async Task An_x509_group_on_a_DPS_certificate_is_created_read_updated_with_its_etag_and_deleted()
    {
        var dps = await fx.CreateDpsAsync("hub1");
        var (_, root) = TestCertificates.SelfSigned("cheese-root");
        await fx.AddCertificateAsync(dps, "Cheese-Root", root);

        var body = CaGroup("cave-a", "cheese-root");
        body["iotHubs"] = new JsonArray("HUB1.azure-devices.net");
        body["allocationPolicy"] = "Hashed";
        body["initialTwin"] = new JsonObject { ["tags"] = new JsonObject { ["cellar"] = "north" }, ["properties"] = new JsonObject { ["desired"] = new JsonObject { ["humidity"] = 92 } } };
        var (created, group) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/cave-a", body);
        ServiceAssert.Ok(created);
        Assert.Equal("cave-a", group!["enrollmentGroupId"]!.GetValue<string>());
        Assert.Equal("x509", group["attestation"]!["type"]!.GetValue<string>());
        Assert.Equal("Cheese-Root", group["attestation"]!["x509"]!["caReferences"]!["primary"]!.GetValue<string>());
        Assert.Equal("hashed", group["allocationPolicy"]!.GetValue<string>());
        Assert.Equal("hub1.azure-devices.net", group["iotHubs"]![0]!.GetValue<string>());
        Assert.Equal("enabled", group["provisioningStatus"]!.GetValue<string>());
        Assert.False(group["capabilities"]!["iotEdge"]!.GetValue<bool>());
        Assert.True(group["reprovisionPolicy"]!["updateHubAssignment"]!.GetValue<bool>());
        Assert.True(group["reprovisionPolicy"]!["migrateDeviceData"]!.GetValue<bool>());
        Assert.Equal(92, group["initialTwin"]!["properties"]!["desired"]!["humidity"]!.GetValue<int>());
        var etag = group["etag"]!.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(etag));
        Assert.True(DateTimeOffset.TryParse(group["createdDateTimeUtc"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _));

        var (read, readBody) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollmentGroups/CAVE-A");
        ServiceAssert.Ok(read);
        Assert.Equal(etag, readBody!["etag"]!.GetValue<string>());
        Assert.Equal("cave-a", readBody["enrollmentGroupId"]!.GetValue<string>());

        var update = (JsonObject)readBody.DeepClone();
        update["provisioningStatus"] = "disabled";
        var (updated, updatedBody) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/cave-a", update, ifMatch: etag);
        ServiceAssert.Ok(updated);
        Assert.Equal("disabled", updatedBody!["provisioningStatus"]!.GetValue<string>());
        Assert.NotEqual(etag, updatedBody["etag"]!.GetValue<string>());
        Assert.Equal(group["createdDateTimeUtc"]!.GetValue<string>(), updatedBody["createdDateTimeUtc"]!.GetValue<string>());

        var (deleted, _) = await fx.SendAsync(dps, HttpMethod.Delete, "/enrollmentGroups/cave-a");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var (gone, goneBody) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollmentGroups/cave-a");
        ServiceAssert.DpsError(gone, goneBody, HttpStatusCode.NotFound, ErrorCodes.EnrollmentNotFound);
        var (again, againBody) = await fx.SendAsync(dps, HttpMethod.Delete, "/enrollmentGroups/cave-a");
        ServiceAssert.DpsError(again, againBody, HttpStatusCode.NotFound, ErrorCodes.EnrollmentNotFound);
    }

    [Fact]
    public async Task Updating_an_existing_group_without_If_Match_is_a_409_conflict()
    {
        var dps = await fx.CreateDpsAsync();
        var body = new JsonObject { ["enrollmentGroupId"] = "sym", ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } };
        var (created, _) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/sym", body);
        ServiceAssert.Ok(created);

        var (conflict, conflictBody) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/sym", body);
        ServiceAssert.DpsError(conflict, conflictBody, HttpStatusCode.Conflict, ErrorCodes.EnrollmentExists);
        Assert.Contains("If-Match", ServiceAssert.Message(conflictBody), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stale_etag_is_a_412_and_leaves_the_group_unchanged_while_star_and_a_quoted_etag_update_it()
    {
        var dps = await fx.CreateDpsAsync();
        var body = new JsonObject { ["enrollmentGroupId"] = "aging", ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } };
        var (_, first) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/aging", body);
        var firstEtag = first!["etag"]!.GetValue<string>();
        body["provisioningStatus"] = "disabled";
        var (_, second) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/aging", body, ifMatch: firstEtag);
        var currentEtag = second!["etag"]!.GetValue<string>();

        body["provisioningStatus"] = "enabled";
        var (stale, staleBody) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/aging", body, ifMatch: firstEtag);
        ServiceAssert.DpsError(stale, staleBody, HttpStatusCode.PreconditionFailed, ErrorCodes.PreconditionFailed);
        var (_, unchanged) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollmentGroups/aging");
        Assert.Equal(currentEtag, unchanged!["etag"]!.GetValue<string>());
        Assert.Equal("disabled", unchanged["provisioningStatus"]!.GetValue<string>());

        var (staleDelete, staleDeleteBody) = await fx.SendAsync(dps, HttpMethod.Delete, "/enrollmentGroups/aging", ifMatch: firstEtag);
        ServiceAssert.DpsError(staleDelete, staleDeleteBody, HttpStatusCode.PreconditionFailed, ErrorCodes.PreconditionFailed);

        var (star, starBody) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/aging", body, ifMatch: "*");
        ServiceAssert.Ok(star);
        Assert.Equal("enabled", starBody!["provisioningStatus"]!.GetValue<string>());

        var starEtag = starBody["etag"]!.GetValue<string>();
        var (quoted, _) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/aging", body, ifMatch: "\"" + starEtag + "\"");
        ServiceAssert.Ok(quoted);

        var (_, latest) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollmentGroups/aging");
        var (deleted, _) = await fx.SendAsync(dps, HttpMethod.Delete, "/enrollmentGroups/aging", ifMatch: latest!["etag"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task A_symmetric_key_group_gets_generated_64_byte_keys_shown_on_create_and_by_attestationmechanism_only()
    {
        var dps = await fx.CreateDpsAsync();
        var (created, group) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/brine",
            new JsonObject { ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } });
        ServiceAssert.Ok(created);
        Assert.Equal("brine", group!["enrollmentGroupId"]!.GetValue<string>());
        var primary = group["attestation"]!["symmetricKey"]!["primaryKey"]!.GetValue<string>();
        var secondary = group["attestation"]!["symmetricKey"]!["secondaryKey"]!.GetValue<string>();
        Assert.Equal(64, Convert.FromBase64String(primary).Length);
        Assert.Equal(64, Convert.FromBase64String(secondary).Length);
        Assert.NotEqual(primary, secondary);

        var (_, read) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollmentGroups/brine");
        Assert.Null(read!["attestation"]!["symmetricKey"]!["primaryKey"]);

        // The Node SDK's path: lower-case "enrollmentgroups", POST without a body.
        var (mechanism, mechanismBody) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentgroups/brine/attestationmechanism");
        ServiceAssert.Ok(mechanism);
        Assert.Equal("symmetricKey", mechanismBody!["type"]!.GetValue<string>());
        Assert.Equal(primary, mechanismBody["symmetricKey"]!["primaryKey"]!.GetValue<string>());

        // Writing back what GET returned (keys masked) keeps the keys.
        var (updated, _) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/brine", read, ifMatch: read["etag"]!.GetValue<string>());
        ServiceAssert.Ok(updated);
        var (_, after) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentGroups/brine/attestationmechanism");
        Assert.Equal(primary, after!["symmetricKey"]!["primaryKey"]!.GetValue<string>());
        Assert.Equal(secondary, after["symmetricKey"]!["secondaryKey"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_signing_certificate_group_reports_the_certificate_info_but_never_returns_the_certificate()
    {
        var dps = await fx.CreateDpsAsync();
        var (pem, certificate) = TestCertificates.SelfSigned("rind-intermediate");
        var body = new JsonObject
        {
            ["enrollmentGroupId"] = "rind",
            ["attestation"] = new JsonObject
            {
                ["type"] = "X509",
                ["x509"] = new JsonObject { ["signingCertificates"] = new JsonObject { ["primary"] = new JsonObject { ["certificate"] = pem } } },
            },
        };
        var (created, group) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/rind", body);
        ServiceAssert.Ok(created);
        var primary = group!["attestation"]!["x509"]!["signingCertificates"]!["primary"]!;
        Assert.Null(primary["certificate"]);
        var info = primary["info"]!;
        Assert.Equal("CN=rind-intermediate", info["subjectName"]!.GetValue<string>());
        Assert.Equal("CN=rind-intermediate", info["issuerName"]!.GetValue<string>());
        Assert.Equal(certificate.GetCertHashString(HashAlgorithmName.SHA256), info["sha256Thumbprint"]!.GetValue<string>());
        Assert.Equal(certificate.Thumbprint, info["sha1Thumbprint"]!.GetValue<string>());
        Assert.Equal(certificate.SerialNumber, info["serialNumber"]!.GetValue<string>());
        Assert.Equal(3, info["version"]!.GetValue<int>());

        // The stored body keeps the certificate (base64 DER) for device registration.
        var stored = fx.Store.Enrollments.All.Single(e => e.Dps == dps.Name && e.Id == "rind");
        Assert.Equal(Convert.ToBase64String(certificate.RawData), stored.Body["attestation"]!["x509"]!["signingCertificates"]!["primary"]!["certificate"]!.GetValue<string>());

        // A round trip of what GET returned (info only) keeps the certificate.
        var (_, read) = await fx.SendAsync(dps, HttpMethod.Get, "/enrollmentGroups/rind");
        var (updated, _) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/rind", read, ifMatch: read!["etag"]!.GetValue<string>());
        ServiceAssert.Ok(updated);
        stored = fx.Store.Enrollments.All.Single(e => e.Dps == dps.Name && e.Id == "rind");
        Assert.NotNull(stored.Body["attestation"]!["x509"]!["signingCertificates"]!["primary"]!["certificate"]);
    }

    [Fact]
    public async Task A_certificate_with_its_private_key_or_unreadable_is_refused()
    {
        var dps = await fx.CreateDpsAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=leaky", key, HashAlgorithmName.SHA256);
        using var withKey = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var pemWithKey = withKey.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem();

        foreach (var text in new[] { pemWithKey, "not a certificate at all" })
        {
            var (response, body) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/leaky", new JsonObject
            {
                ["attestation"] = new JsonObject
                {
                    ["type"] = "x509",
                    ["x509"] = new JsonObject { ["signingCertificates"] = new JsonObject { ["primary"] = new JsonObject { ["certificate"] = text } } },
                },
            });
            ServiceAssert.DpsError(response, body, HttpStatusCode.BadRequest, ErrorCodes.InvalidCertificate);
        }
    }

    [Fact]
    public async Task The_101st_x509_group_exceeds_the_DPS_limit()
    {
        var dps = await fx.CreateDpsAsync();
        var (_, root) = TestCertificates.SelfSigned("quota-root");
        await fx.AddCertificateAsync(dps, "root", root);
        await fx.Store.WriteAsync(tx =>
        {
            for (var i = 0; i < EnrollmentDocuments.MaxX509EnrollmentGroups; i++)
            {
                var id = $"g{i:D3}";
                var body = CaGroup(id, "root");
                tx.Put(fx.Store.Enrollments, Emulator.Hosting.ArmKeys.Enrollment(dps.Name, true, id),
                    new Emulator.State.EnrollmentEntity(dps.Name, id, true, body, "AAAAAAAAAAA=", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
            }
        });

        var (response, error) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/one-too-many", CaGroup("one-too-many", "root"));
        ServiceAssert.DpsError(response, error, HttpStatusCode.Forbidden, ErrorCodes.QuotaExceeded);

        // Updating one of the hundred is still fine, and symmetric key groups have their own limit.
        var (update, _) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/g000", CaGroup("g000", "root", "disabled"), ifMatch: "*");
        ServiceAssert.Ok(update);
        var (symmetric, _) = await fx.SendAsync(dps, HttpMethod.Put, "/enrollmentGroups/sym", new JsonObject { ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } });
        ServiceAssert.Ok(symmetric);
    }

    [Fact]
    public async Task Bulk_operations_create_update_and_delete_groups_and_report_each_failure()
    {
        var dps = await fx.CreateDpsAsync();
        JsonObject Sym(string id) => new() { ["enrollmentGroupId"] = id, ["attestation"] = new JsonObject { ["type"] = "symmetricKey" } };
        var (created, result) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentGroups",
            new JsonObject { ["mode"] = "create", ["enrollmentGroups"] = new JsonArray(Sym("b1"), Sym("b2")) });
        ServiceAssert.Ok(created);
        Assert.True(result!["isSuccessful"]!.GetValue<bool>());
        Assert.Empty(result["errors"]!.AsArray());

        var (_, again) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentGroups",
            new JsonObject { ["mode"] = "create", ["enrollmentGroups"] = new JsonArray(Sym("b2"), Sym("b3")) });
        Assert.False(again!["isSuccessful"]!.GetValue<bool>());
        var failure = again["errors"]!.AsArray().Single()!;
        Assert.Equal("b2", failure["enrollmentGroupId"]!.GetValue<string>());
        Assert.Equal(ErrorCodes.EnrollmentExists, failure["errorCode"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(failure["errorStatus"]!.GetValue<string>()));

        var (_, deleted) = await fx.SendAsync(dps, HttpMethod.Post, "/enrollmentGroups",
            new JsonObject { ["mode"] = "delete", ["enrollmentGroups"] = new JsonArray(Sym("b1"), Sym("b2"), Sym("b3")) });
        Assert.True(deleted!["isSuccessful"]!.GetValue<bool>());
        Assert.DoesNotContain(fx.Store.Enrollments.All, e => e.Dps == dps.Name);
    }
}
