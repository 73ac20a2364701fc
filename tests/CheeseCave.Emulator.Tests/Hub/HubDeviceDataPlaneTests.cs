using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Tests.Device;

namespace CheeseCave.Emulator.Tests.Hub;

/// <summary>A provisioned device on its hub over MQTT: telemetry, twin, direct methods, cloud-to-device; the service side over HTTPS.</summary>
public sealed class HubDeviceDataPlaneTests
{
    [Fact]
    public async Task A_provisioned_device_sends_telemetry_that_the_service_reads_with_its_properties()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        var identity = await HubTestKit.ProvisionAsync(env, pki, "cave-001");
        await using var device = await HubMqttDevice.ConnectAsync(env, identity);
        using var service = env.HubClient("cave-hub");

        await device.PublishAsync("devices/cave-001/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8&%24.mid=m-1&room=aging%20cellar", "{\"temperature\":11.5,\"humidity\":94}");

        var messages = await HubTestKit.UntilAsync(async () => (await HubTestKit.SendAsync(service, HttpMethod.Get, "/devices/cave-001/messages/events")).Body, m => m.AsArray().Count == 1);
        var message = messages[0]!;
        Assert.Equal("cave-001", message.Str("deviceId"));
        Assert.Equal(11.5, message["body"]!["temperature"]!.GetValue<double>());
        Assert.Equal("aging cellar", message.Str("properties", "room"));
        Assert.Equal("application/json", message.Str("systemProperties", "$.ct"));
        Assert.Equal("m-1", message.Str("systemProperties", "$.mid"));
        Assert.False(string.IsNullOrEmpty(message.Str("enqueuedTimeUtc")));

        var identityJson = await HubTestKit.UntilAsync(async () => (await HubTestKit.SendAsync(service, HttpMethod.Get, "/devices/cave-001")).Body, d => d.Str("connectionState") == "Connected");
        Assert.NotEqual("0001-01-01T00:00:00Z", identityJson.Str("lastActivityTime"));
        var all = (await HubTestKit.SendAsync(service, HttpMethod.Get, "/messages/events")).Body!.AsArray();
        Assert.Single(all);
    }

    [Fact]
    public async Task The_device_reads_and_reports_its_twin_and_receives_desired_updates_with_versions()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        var identity = await HubTestKit.ProvisionAsync(env, pki, "cave-002");
        await using var device = await HubMqttDevice.ConnectAsync(env, identity);
        await device.SubscribeAsync("$iothub/twin/res/#");
        await device.SubscribeAsync("$iothub/twin/PATCH/properties/desired/#");
        using var service = env.HubClient("cave-hub");

        var (getStatus, _, twin) = await device.TwinAsync("$iothub/twin/GET/", " ");
        Assert.Equal(200, getStatus);
        Assert.Equal(95, twin!["desired"]!["humidity"]!.GetValue<int>());
        Assert.Equal(1, twin["desired"]!["$version"]!.GetValue<long>());
        Assert.Equal(1, twin["reported"]!["$version"]!.GetValue<long>());

        var (patchStatus, query, _) = await device.TwinAsync("$iothub/twin/PATCH/properties/reported/", "{\"firmware\":\"1.2.0\",\"humidity\":93}");
        Assert.Equal(204, patchStatus);
        Assert.Contains("$version=2", query, StringComparison.Ordinal);

        var (_, serviceTwin, _) = await HubTestKit.SendAsync(service, HttpMethod.Get, "/twins/cave-002");
        Assert.Equal("1.2.0", serviceTwin.Str("properties", "reported", "firmware"));
        Assert.Equal(2, serviceTwin!["properties"]!["reported"]!["$version"]!.GetValue<long>());
        var etag = serviceTwin.Str("etag");

        var (stale, staleBody, _) = await HubTestKit.SendAsync(service, HttpMethod.Patch, "/twins/cave-002",
            new JsonObject { ["properties"] = new JsonObject { ["desired"] = new JsonObject { ["humidity"] = 90 } } }, ifMatch: "\"not-the-etag\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale);
        Assert.StartsWith("ErrorCode:PreconditionFailed;", staleBody.Str("Message"), StringComparison.Ordinal);

        var (updated, updatedTwin, _) = await HubTestKit.SendAsync(service, HttpMethod.Patch, "/twins/cave-002",
            new JsonObject { ["tags"] = new JsonObject { ["room"] = "cellar-2" }, ["properties"] = new JsonObject { ["desired"] = new JsonObject { ["humidity"] = 90 } } }, ifMatch: $"\"{etag}\"");
        Assert.Equal(HttpStatusCode.OK, updated);
        Assert.Equal("cellar-2", updatedTwin.Str("tags", "room"));
        Assert.Equal(2, updatedTwin!["properties"]!["desired"]!["$version"]!.GetValue<long>());

        var (topic, payload) = await device.ReceiveAsync(@"^\$iothub/twin/PATCH/properties/desired/\?\$version=(\d+)$");
        Assert.Equal("2", topic.Groups[1].Value);
        var patch = JsonNode.Parse(payload)!;
        Assert.Equal(90, patch["humidity"]!.GetValue<int>());
        Assert.Equal(2, patch["$version"]!.GetValue<long>());

        var (badStatus, _, badBody) = await device.TwinAsync("$iothub/twin/PATCH/properties/reported/", "[1,2]");
        Assert.Equal(400, badStatus);
        Assert.Equal(400004, badBody!["errorCode"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_device_that_registered_over_MQTT_with_the_same_client_id_still_gets_desired_updates_on_its_hub()
    {
        // DPS and the hub share this broker, and the SDKs use registration id = device id = client id on both.
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var identity = pki.IssueDevice("cave-006");
        await using (var dps = await DpsMqttDevice.ConnectAsync(env, identity))
        {
            var (status, _, body) = await dps.RequestAsync("$dps/registrations/PUT/iotdps-register/", "{\"registrationId\":\"cave-006\"}");
            Assert.True(status == 200, body.ToJsonString());
        }

        await using var device = await HubMqttDevice.ConnectAsync(env, identity);
        await device.SubscribeAsync("$iothub/twin/res/#");
        await device.SubscribeAsync("$iothub/twin/PATCH/properties/desired/#");
        using var service = env.HubClient("cave-hub");
        var (updated, _, _) = await HubTestKit.SendAsync(service, HttpMethod.Patch, "/twins/cave-006",
            new JsonObject { ["properties"] = new JsonObject { ["desired"] = new JsonObject { ["humidity"] = 91 } } });
        Assert.Equal(HttpStatusCode.OK, updated);
        var (_, payload) = await device.ReceiveAsync(@"^\$iothub/twin/PATCH/properties/desired/");
        Assert.Equal(91, JsonNode.Parse(payload)!["humidity"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_direct_method_reaches_the_connected_device_and_its_answer_comes_back()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        var identity = await HubTestKit.ProvisionAsync(env, pki, "cave-003");
        using var service = env.HubClient("cave-hub");
        var call = new JsonObject { ["methodName"] = "setFan", ["payload"] = new JsonObject { ["speed"] = 3 }, ["responseTimeoutInSeconds"] = 10 };

        var (offline, offlineBody, offlineResponse) = await HubTestKit.SendAsync(service, HttpMethod.Post, "/twins/cave-003/methods", call.DeepClone());
        Assert.Equal(HttpStatusCode.NotFound, offline);
        Assert.Equal(404103, JsonNode.Parse(offlineBody.Str("Message"))!["errorCode"]!.GetValue<int>());
        Assert.Equal("DeviceNotOnline", offlineResponse.Headers.GetValues("iothub-errorcode").Single());

        await using var device = await HubMqttDevice.ConnectAsync(env, identity);
        await device.SubscribeAsync("$iothub/methods/POST/#");
        var invocation = HubTestKit.SendAsync(service, HttpMethod.Post, "/twins/cave-003/methods", call.DeepClone());
        var (request, requestPayload) = await device.ReceiveAsync(@"^\$iothub/methods/POST/([^/]+)/\?\$rid=(.+)$");
        Assert.Equal("setFan", request.Groups[1].Value);
        Assert.Equal(3, JsonNode.Parse(requestPayload)!["speed"]!.GetValue<int>());
        await device.PublishAsync($"$iothub/methods/res/200/?$rid={request.Groups[2].Value}", "{\"fan\":\"on\"}");

        var (status, answer, _) = await invocation;
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(200, answer!["status"]!.GetValue<int>());
        Assert.Equal("on", answer.Str("payload", "fan"));
    }

    [Fact]
    public async Task A_direct_method_the_device_never_answers_ends_in_504_after_its_timeout()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        var identity = await HubTestKit.ProvisionAsync(env, pki, "cave-007");
        await using var device = await HubMqttDevice.ConnectAsync(env, identity);
        await device.SubscribeAsync("$iothub/methods/POST/#");
        using var service = env.HubClient("cave-hub");

        var (status, body, response) = await HubTestKit.SendAsync(service, HttpMethod.Post, "/twins/cave-007/methods",
            new JsonObject { ["methodName"] = "reboot", ["responseTimeoutInSeconds"] = 5 });

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal(504101, JsonNode.Parse(body.Str("Message"))!["errorCode"]!.GetValue<int>());
        Assert.Equal("GatewayTimeout", response.Headers.GetValues("iothub-errorcode").Single());
        await device.ReceiveAsync(@"^\$iothub/methods/POST/reboot/"); // the request did reach the device
    }

    [Fact]
    public async Task Cloud_to_device_messages_wait_for_the_device_and_arrive_with_their_properties()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        var identity = await HubTestKit.ProvisionAsync(env, pki, "cave-004");
        using var service = env.HubClient("cave-hub");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/devices/cave-004/messages/deviceBound" + HubTestKit.Api)
        {
            Content = new StringContent("turn the wheels"),
        };
        request.Headers.Add("iothub-messageid", "c2d-1");
        request.Headers.Add("iothub-app-shelf", "A/3");
        var sent = await service.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        Assert.Equal(1, (await HubTestKit.SendAsync(service, HttpMethod.Get, "/devices/cave-004")).Body!["cloudToDeviceMessageCount"]!.GetValue<int>());

        await using var device = await HubMqttDevice.ConnectAsync(env, identity);
        await device.SubscribeAsync("devices/cave-004/messages/devicebound/#");
        var (topic, payload) = await device.ReceiveAsync(@"^devices/cave-004/messages/devicebound/(.*)$");
        Assert.Equal("turn the wheels", payload);
        Assert.Contains("%24.mid=c2d-1", topic.Groups[1].Value, StringComparison.Ordinal);
        Assert.Contains("shelf=A%2F3", topic.Groups[1].Value, StringComparison.Ordinal);
        Assert.DoesNotContain('/', topic.Groups[1].Value);
    }

    [Fact]
    public async Task Service_calls_need_ServiceConnect_and_twin_reads_accept_registry_rights()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await HubTestKit.ProvisionAsync(env, pki, "cave-005");
        using var serviceOnly = env.HubClient("cave-hub", policy: "service", key: DeviceTestEnvironment.HubKey("cave-hub-svc"));
        Assert.Equal(HttpStatusCode.OK, (await HubTestKit.SendAsync(serviceOnly, HttpMethod.Get, "/twins/cave-005")).Status);
        Assert.Equal(HttpStatusCode.OK, (await HubTestKit.SendAsync(serviceOnly, HttpMethod.Get, "/devices/cave-005/messages/events")).Status);
        using var anonymous = env.Harness.CreateClient(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await HubTestKit.SendAsync(anonymous, HttpMethod.Patch, "/twins/cave-005", new JsonObject())).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await HubTestKit.SendAsync(serviceOnly, HttpMethod.Get, "/twins/nobody")).Status);
    }
}
