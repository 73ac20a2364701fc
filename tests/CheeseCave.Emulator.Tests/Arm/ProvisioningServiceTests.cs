using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Tests.Arm;

public sealed class ProvisioningServiceTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly ArmCalls _arm = new(fixture.Emulator);

    [Fact]
    public async Task Create_answers_201_Accepted_with_idScope_null_and_an_operation_under_the_location_that_reports_Succeeded()
    {
        var name = ArmCalls.Unique("dps");
        var (status, body, response) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), ArmCalls.DpsBody());

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Null(ArmCalls.Header(response, "Retry-After")); // Azure sent none on creates
        Assert.Null(ArmCalls.Header(response, "Location"));
        var operation = ArmCalls.Header(response, "Azure-AsyncOperation");
        Assert.NotNull(operation);
        Assert.Matches(
            $"^https://{System.Text.RegularExpressions.Regex.Escape(fixture.Emulator.Server.Context.HttpsHost)}/subscriptions/{fixture.Emulator.SubscriptionId}/providers/Microsoft.Devices/locations/eastus/provisioningServiceOperationResults/[A-Za-z0-9_-]+\\?api-version=2022-02-05&asyncinfo$",
            operation);

        Assert.Equal(name, body!["name"]!.GetValue<string>());
        Assert.Equal("Microsoft.Devices/ProvisioningServices", body["type"]!.GetValue<string>());
        Assert.Equal("eastus", body["location"]!.GetValue<string>());
        Assert.Equal("S1", body["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("Standard", body["sku"]!["tier"]!.GetValue<string>());
        Assert.Equal(1, body["sku"]!["capacity"]!.GetValue<long>());
        var properties = body["properties"]!.AsObject();
        Assert.Equal("Accepted", properties["provisioningState"]!.GetValue<string>());
        Assert.True(properties.ContainsKey("idScope"));
        Assert.Null(properties["idScope"]);
        Assert.False(properties.ContainsKey("authorizationPolicies"));
        Assert.Equal("Hashed", properties["allocationPolicy"]!.GetValue<string>());
        Assert.Equal(fixture.Emulator.Server.Context.HttpsHost, properties["serviceOperationsHostName"]!.GetValue<string>());
        Assert.Equal(fixture.Emulator.Server.Context.HttpsHost, properties["deviceProvisioningHostName"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(ArmCalls.Etag(body)));

        // The status URL as the .NET engine polls it: api-version replaced, everything else kept. Instant timing: done.
        var poll = new Uri(operation);
        using var pollResponse = await fixture.Emulator.Arm.GetAsync(poll.PathAndQuery.Replace("2022-02-05", "2026-08-31", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, pollResponse.StatusCode);
        Assert.Equal("{\"status\":\"Succeeded\"}", (await EmulatorHarness.ReadJsonAsync(pollResponse))!.ToJsonString());

        // Once it has succeeded, GET has the ID scope and Succeeded, and no authorizationPolicies.
        var (getStatus, got, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(name));
        Assert.Equal(HttpStatusCode.OK, getStatus);
        var read = got!["properties"]!.AsObject();
        Assert.Equal("Succeeded", read["provisioningState"]!.GetValue<string>());
        Assert.Equal("Active", read["state"]!.GetValue<string>());
        Assert.Matches("^0ne[0-9A-F]{8}$", read["idScope"]!.GetValue<string>());
        Assert.False(read.ContainsKey("authorizationPolicies"));
        Assert.Equal(ArmCalls.Etag(body), ArmCalls.Etag(got));
    }

    [Fact]
    public async Task A_PUT_that_sends_authorizationPolicies_gets_them_back_with_their_keys()
    {
        var name = ArmCalls.Unique("dps");
        var create = ArmCalls.DpsBody();
        create["properties"]!["authorizationPolicies"] = new JsonArray(
            new JsonObject { ["keyName"] = "provisioningserviceowner", ["rights"] = "ServiceConfig, EnrollmentRead, EnrollmentWrite, DeviceConnect, RegistrationStatusRead, RegistrationStatusWrite" });
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), create);

        Assert.Equal(HttpStatusCode.Created, status);
        var policy = Assert.Single(body!["properties"]!["authorizationPolicies"]!.AsArray())!;
        Assert.Equal("provisioningserviceowner", policy["keyName"]!.GetValue<string>());
        Assert.Equal("ServiceConfig, EnrollmentRead, EnrollmentWrite, DeviceConnect, RegistrationStatusRead, RegistrationStatusWrite", policy["rights"]!.GetValue<string>());
        Assert.Equal(44, policy["primaryKey"]!.GetValue<string>().Length);
        Assert.Equal(44, policy["secondaryKey"]!.GetValue<string>().Length);
        var (_, listed, _) = await _arm.CallAsync(HttpMethod.Post, $"{_arm.DpsPath(name)}/keys/provisioningserviceowner/listkeys");
        Assert.Equal(listed!["primaryKey"]!.GetValue<string>(), policy["primaryKey"]!.GetValue<string>());

        var (_, got, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(name));
        Assert.False(got!["properties"]!.AsObject().ContainsKey("authorizationPolicies"));
    }

    [Fact]
    public async Task Unknown_operation_ids_are_404()
    {
        var name = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(name);
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Get, $"{_arm.DpsPath(name)}/operationresults/bm9wZQ==");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("OperationNotFound", ArmCalls.ErrorCode(body));
    }

    [Fact]
    public async Task Update_answers_201_Accepted_with_an_operation_keeps_the_id_scope_and_changes_the_etag()
    {
        var name = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(name);
        var (_, created, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(name));
        var update = ArmCalls.DpsBody();
        update["properties"]!["allocationPolicy"] = "geolatency";
        update["sku"]!["capacity"] = 2;
        update["tags"] = new JsonObject { ["env"] = "test" };

        var (status, body, response) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name.ToUpperInvariant()), update);

        Assert.Equal(HttpStatusCode.Created, status);
        var operation = ArmCalls.Header(response, "Azure-AsyncOperation");
        Assert.Contains("/providers/Microsoft.Devices/locations/eastus/provisioningServiceOperationResults/", operation, StringComparison.Ordinal);
        Assert.Equal(name, body!["name"]!.GetValue<string>());
        Assert.Equal("Accepted", body["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal("GeoLatency", body["properties"]!["allocationPolicy"]!.GetValue<string>());
        Assert.Equal(2, body["sku"]!["capacity"]!.GetValue<long>());
        Assert.Equal("test", body["tags"]!["env"]!.GetValue<string>());
        Assert.Equal(created!["properties"]!["idScope"]!.GetValue<string>(), body["properties"]!["idScope"]!.GetValue<string>());
        Assert.NotEqual(ArmCalls.Etag(created), ArmCalls.Etag(body));

        using var poll = await fixture.Emulator.Arm.GetAsync(new Uri(operation!).PathAndQuery);
        Assert.Equal("Succeeded", (await EmulatorHarness.ReadJsonAsync(poll))!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_with_a_stale_If_Match_is_412_and_changes_nothing()
    {
        var name = ArmCalls.Unique("dps");
        var created = await _arm.CreateDpsAsync(name);
        var update = ArmCalls.DpsBody();
        update["properties"]!["allocationPolicy"] = "Static";
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), update, ifMatch: "\"AAAAAAAAAAA=\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, status);
        Assert.Equal("PreconditionFailed", ArmCalls.ErrorCode(body));

        var (_, got, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(name));
        Assert.Equal("Hashed", got!["properties"]!["allocationPolicy"]!.GetValue<string>());
        Assert.Equal(ArmCalls.Etag(created), ArmCalls.Etag(got));

        var (okStatus, _, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), update, ifMatch: $"\"{ArmCalls.Etag(created)}\"");
        Assert.Equal(HttpStatusCode.Created, okStatus);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("-leading-hyphen")]
    [InlineData("trailing-hyphen-")]
    [InlineData("12345")]
    [InlineData("under_score")]
    [InlineData("this-name-is-far-too-long-for-a-provisioning-service-x")]
    public async Task Invalid_names_are_refused_with_a_plain_message(string name)
    {
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), ArmCalls.DpsBody());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidResourceName", ArmCalls.ErrorCode(body));
        Assert.Contains("3 to 50 letters, digits and hyphens", ArmCalls.ErrorMessage(body));
    }

    [Fact]
    public async Task Names_are_global_a_second_resource_group_cannot_take_a_used_name()
    {
        var name = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(name);
        var otherGroup = $"/subscriptions/{fixture.Emulator.SubscriptionId}/resourcegroups/{ArmCalls.Unique("rg")}";
        var (groupStatus, _, _) = await _arm.CallAsync(HttpMethod.Put, otherGroup, new JsonObject { ["location"] = "eastus" }, version: "2022-09-01");
        Assert.Equal(HttpStatusCode.Created, groupStatus);

        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, $"{otherGroup}/providers/Microsoft.Devices/provisioningServices/{name}", ArmCalls.DpsBody());
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("NameUnavailable", ArmCalls.ErrorCode(body));
        Assert.Contains("already taken", ArmCalls.ErrorMessage(body));

        var (missing, _, _) = await _arm.CallAsync(HttpMethod.Get, $"{otherGroup}/providers/Microsoft.Devices/provisioningServices/{name}");
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    [Fact]
    public async Task Name_availability_reports_Invalid_AlreadyExists_and_available()
    {
        var name = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(name);
        var path = $"/subscriptions/{fixture.Emulator.SubscriptionId}/providers/Microsoft.Devices/checkProvisioningServiceNameAvailability";

        var (_, taken, _) = await _arm.CallAsync(HttpMethod.Post, path, new JsonObject { ["name"] = name.ToUpperInvariant() });
        Assert.False(taken!["nameAvailable"]!.GetValue<bool>());
        Assert.Equal("AlreadyExists", taken["reason"]!.GetValue<string>());

        var (_, invalid, _) = await _arm.CallAsync(HttpMethod.Post, path, new JsonObject { ["name"] = "x_" });
        Assert.False(invalid!["nameAvailable"]!.GetValue<bool>());
        Assert.Equal("Invalid", invalid["reason"]!.GetValue<string>());
        Assert.Contains("invalid", invalid["message"]!.GetValue<string>());

        var (status, free, _) = await _arm.CallAsync(HttpMethod.Post, path, new JsonObject { ["name"] = ArmCalls.Unique("free") });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{\"nameAvailable\":true,\"reason\":\"Invalid\",\"message\":null}", free!.ToJsonString());
    }

    [Fact]
    public async Task Location_is_required_and_sku_and_allocation_policy_are_validated()
    {
        var name = ArmCalls.Unique("dps");
        var noLocation = ArmCalls.DpsBody();
        noLocation.Remove("location");
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), noLocation);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("LocationRequired", ArmCalls.ErrorCode(body));

        var badSku = ArmCalls.DpsBody();
        badSku["sku"]!["name"] = "S2";
        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), badSku);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidSku", ArmCalls.ErrorCode(body));

        var badPolicy = ArmCalls.DpsBody();
        badPolicy["properties"]!["allocationPolicy"] = "Random";
        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), badPolicy);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidAllocationPolicy", ArmCalls.ErrorCode(body));

        // Nothing but a location: S1, capacity 1, Hashed.
        var (created, minimal, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), new JsonObject { ["location"] = "West Europe" });
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal("westeurope", minimal!["location"]!.GetValue<string>());
        Assert.Equal("S1", minimal["sku"]!["name"]!.GetValue<string>());
        Assert.Equal(1, minimal["sku"]!["capacity"]!.GetValue<long>());
        Assert.Equal("Hashed", minimal["properties"]!["allocationPolicy"]!.GetValue<string>());

        var moved = new JsonObject { ["location"] = "westus" };
        (status, body, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), moved);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("InvalidResourceLocation", ArmCalls.ErrorCode(body));
    }

    [Fact]
    public async Task Requests_without_api_version_are_refused_like_ARM()
    {
        var name = ArmCalls.Unique("dps");
        using var response = await fixture.Emulator.Arm.GetAsync(_arm.DpsPath(name));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("MissingApiVersionParameter", ArmCalls.ErrorCode(await EmulatorHarness.ReadJsonAsync(response) as JsonObject));

        // Any api-version is accepted.
        var (status, _, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), ArmCalls.DpsBody(), version: "2017-11-15");
        Assert.Equal(HttpStatusCode.Created, status);
    }

    [Fact]
    public async Task Malformed_and_missing_bodies_get_an_ARM_error_body()
    {
        var name = ArmCalls.Unique("dps");
        using var request = new HttpRequestMessage(HttpMethod.Put, ArmCalls.Api(_arm.DpsPath(name)))
        {
            Content = new StringContent("{\"location\": \"eastus\",", System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await fixture.Emulator.Arm.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await EmulatorHarness.ReadJsonAsync(response) as JsonObject;
        Assert.Equal("InvalidRequestContent", ArmCalls.ErrorCode(body));

        var (status, empty, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidRequestContent", ArmCalls.ErrorCode(empty));

        var wrongType = ArmCalls.DpsBody();
        wrongType["location"] = 42;
        (status, empty, _) = await _arm.CallAsync(HttpMethod.Put, _arm.DpsPath(name), wrongType);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("'location' must be a string", ArmCalls.ErrorMessage(empty));
    }

    [Fact]
    public async Task Routes_ignore_case_and_missing_groups_or_services_are_404()
    {
        var name = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(name);
        var upper = $"/SUBSCRIPTIONS/{fixture.Emulator.SubscriptionId}/resourcegroups/CHEESECAVE-RG/providers/microsoft.devices/ProvisioningServices/{name.ToUpperInvariant()}";
        var (status, _, _) = await _arm.CallAsync(HttpMethod.Get, upper);
        Assert.Equal(HttpStatusCode.OK, status);

        var (noGroup, body, _) = await _arm.CallAsync(HttpMethod.Get, $"/subscriptions/{fixture.Emulator.SubscriptionId}/resourceGroups/nope/providers/Microsoft.Devices/provisioningServices/{name}");
        Assert.Equal(HttpStatusCode.NotFound, noGroup);
        Assert.Equal("ResourceGroupNotFound", ArmCalls.ErrorCode(body));

        var (noDps, missing, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(ArmCalls.Unique("missing")));
        Assert.Equal(HttpStatusCode.NotFound, noDps);
        Assert.Equal("ResourceNotFound", ArmCalls.ErrorCode(missing));
    }

    [Fact]
    public async Task Lists_by_group_and_subscription_have_value_and_nextLink()
    {
        var name = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(name);

        var (status, byGroup, _) = await _arm.CallAsync(HttpMethod.Get, $"{_arm.Group}/providers/Microsoft.Devices/provisioningServices");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(byGroup!["value"]!.AsArray(), d => d!["name"]!.GetValue<string>() == name);
        Assert.True(byGroup.ContainsKey("nextLink"));
        Assert.Null(byGroup["nextLink"]);
        Assert.All(byGroup["value"]!.AsArray(), d => Assert.NotNull(d!["properties"]));

        var (subStatus, bySubscription, _) = await _arm.CallAsync(HttpMethod.Get, $"/subscriptions/{fixture.Emulator.SubscriptionId}/providers/Microsoft.Devices/provisioningServices");
        Assert.Equal(HttpStatusCode.OK, subStatus);
        Assert.Contains(bySubscription!["value"]!.AsArray(), d => d!["name"]!.GetValue<string>() == name);
    }

    [Fact]
    public async Task Patch_replaces_tags_and_answers_200()
    {
        var name = ArmCalls.Unique("dps");
        var created = await _arm.CreateDpsAsync(name);
        var (status, body, _) = await _arm.CallAsync(HttpMethod.Patch, _arm.DpsPath(name), new JsonObject { ["tags"] = new JsonObject { ["owner"] = "cheese" } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("cheese", body!["tags"]!["owner"]!.GetValue<string>());
        Assert.NotEqual(ArmCalls.Etag(created), ArmCalls.Etag(body));
        Assert.Equal("Succeeded", body["properties"]!["provisioningState"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_answers_202_with_both_operation_headers_then_204_and_removes_everything_the_service_owned()
    {
        var name = ArmCalls.Unique("dps");
        await _arm.CreateDpsAsync(name);
        using (var root = new Pki.CertificateAuthority().CreateRoot(new Pki.RootCaRequest("Delete Test Root")))
        {
            var (certStatus, _, _) = await _arm.CallAsync(HttpMethod.Put, _arm.CertPath(name, "root"), new JsonObject { ["certificate"] = Pki.CertificateExport.ToPem(root.Certificate) });
            Assert.Equal(HttpStatusCode.OK, certStatus);
        }

        var store = fixture.Emulator.Server.Context.Store;
        var now = DateTimeOffset.UtcNow;
        await store.WriteAsync(tx =>
        {
            tx.Put(store.Enrollments, ArmKeys.Enrollment(name, true, "group1"), new EnrollmentEntity(name, "group1", true, new JsonObject(), "e", now, now));
            tx.Put(store.Registrations, ArmKeys.Registration(name, "dev1"), new RegistrationEntity(name, "dev1", "group1", null, null, "assigned", null, null, null, "e", now, now, null, null, null));
            tx.Put(store.Operations, "op-" + name, new RegistrationOperationEntity("op-" + name, name, "dev1", now, 200, new JsonObject()));
        });

        var (status, _, response) = await _arm.CallAsync(HttpMethod.Delete, _arm.DpsPath(name));
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        var operation = ArmCalls.Header(response, "Azure-AsyncOperation")!;
        var location = response.Headers.Location!.ToString();
        Assert.Contains("/providers/Microsoft.Devices/locations/eastus/provisioningServiceOperationResults/", operation, StringComparison.Ordinal);
        Assert.EndsWith("&asyncinfo", operation, StringComparison.Ordinal);
        Assert.Equal(operation[..^"&asyncinfo".Length], location);
        using (var poll = await fixture.Emulator.Arm.GetAsync(new Uri(operation).PathAndQuery))
        {
            Assert.Equal("Succeeded", (await EmulatorHarness.ReadJsonAsync(poll))!["status"]!.GetValue<string>());
        }

        using (var poll = await fixture.Emulator.Arm.GetAsync(new Uri(location).PathAndQuery))
        {
            Assert.Equal(HttpStatusCode.NoContent, poll.StatusCode);
        }

        Assert.Null(store.ProvisioningServices.Get(ArmKeys.ProvisioningService(name)));
        Assert.Null(store.DpsCertificates.Get(ArmKeys.DpsCertificate(name, "root")));
        Assert.Null(store.Enrollments.Get(ArmKeys.Enrollment(name, true, "group1")));
        Assert.Null(store.Registrations.Get(ArmKeys.Registration(name, "dev1")));
        Assert.Null(store.Operations.Get("op-" + name));

        (status, _, _) = await _arm.CallAsync(HttpMethod.Delete, _arm.DpsPath(name));
        Assert.Equal(HttpStatusCode.NoContent, status);
        (status, _, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(name));
        Assert.Equal(HttpStatusCode.NotFound, status);

        // The name is free again, with a new ID scope and no certificates.
        await _arm.CreateDpsAsync(name);
        var (_, certificates, _) = await _arm.CallAsync(HttpMethod.Get, $"{_arm.DpsPath(name)}/certificates");
        Assert.Empty(certificates!["value"]!.AsArray());
        var (_, again, _) = await _arm.CallAsync(HttpMethod.Get, _arm.DpsPath(name));
        Assert.NotNull(again!["properties"]!["idScope"]);
    }
}
