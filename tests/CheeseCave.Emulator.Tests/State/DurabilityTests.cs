using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.State;
using CheeseCave.Emulator.Tests.Device;
using CheeseCave.Emulator.Tests.Service;

namespace CheeseCave.Emulator.Tests.State;

/// <summary>
/// Crash durability of the standalone emulator: every write it acknowledged with a 2xx is still there after a
/// SIGKILL and a restart on the same folder, and SIGTERM stops it cleanly. No test here measures time; waits
/// only have generous timeouts so a hang fails instead of blocking the suite.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private const string RgApi = "api-version=2022-09-01";
    private const string DpsApi = "api-version=2022-02-05";
    private const string HubApi = "api-version=2023-06-30";
    private const string ServiceApi = "api-version=2021-10-01";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cheesecave-durability-" + Guid.NewGuid().ToString("N"));

    public DurabilityTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public async Task Every_acknowledged_write_survives_kill_9_and_a_restart()
    {
        using var pki = new TestPki("Durable");
        var device = pki.IssueDevice("durable-device-001");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        string hubName = "durable-hub-" + suffix, dpsName = "durable-dps-" + suffix;
        string idScope, ownerKey, groupEtag, contestedTag;
        var burst = Enumerable.Range(0, 24).Select(i => $"burst-rg-{i:D2}").ToArray();

        await using (var first = await StandaloneEmulator.StartAsync(_folder))
        {
            var rgPath = RgPath(first);

            // ARM: resource groups, an IoT hub, a DPS linked to it, a verified DPS certificate.
            for (var i = 0; i < 3; i++)
            {
                await ExpectAsync(first.Arm.PutAsync($"{rgPath}/durable-rg-{i}?{RgApi}", Json(new JsonObject { ["location"] = "westeurope", ["tags"] = new JsonObject { ["i"] = $"{i}" } })), HttpStatusCode.Created);
            }

            var group = $"{rgPath}/{first.Endpoints.ResourceGroup}/providers/Microsoft.Devices";
            await ExpectAsync(first.Arm.PutAsync($"{group}/IotHubs/{hubName}?{HubApi}",
                Json(new JsonObject { ["location"] = "westeurope", ["sku"] = new JsonObject { ["name"] = "S1", ["capacity"] = 1 }, ["properties"] = new JsonObject() })), HttpStatusCode.Created);
            var hubKeys = await ExpectAsync(first.Arm.PostAsync($"{group}/IotHubs/{hubName}/IotHubKeys/iothubowner/listkeys?{HubApi}", null), HttpStatusCode.OK);
            var hubConnection = $"HostName={hubName}.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={hubKeys["primaryKey"]!.GetValue<string>()}";
            await ExpectAsync(first.Arm.PutAsync($"{group}/provisioningServices/{dpsName}?{DpsApi}", Json(new JsonObject
            {
                ["location"] = "westeurope",
                ["sku"] = new JsonObject { ["name"] = "S1", ["capacity"] = 1 },
                ["properties"] = new JsonObject { ["iotHubs"] = new JsonArray(new JsonObject { ["connectionString"] = hubConnection, ["location"] = "westeurope" }) },
            })), HttpStatusCode.Created);
            // The create answer has idScope null (as on Azure); the GET after the operation has it.
            var dps = await ExpectAsync(first.Arm.GetAsync($"{group}/provisioningServices/{dpsName}?{DpsApi}"), HttpStatusCode.OK);
            idScope = dps["properties"]!["idScope"]!.GetValue<string>();
            await ExpectAsync(first.Arm.PutAsync($"{group}/provisioningServices/{dpsName}/certificates/root-ca?{DpsApi}",
                Json(new JsonObject { ["properties"] = new JsonObject { ["certificate"] = Convert.ToBase64String(pki.Root.Certificate.RawData), ["isVerified"] = true } })), HttpStatusCode.OK, HttpStatusCode.Created);
            var keys = await ExpectAsync(first.Arm.PostAsync($"{group}/provisioningServices/{dpsName}/keys/provisioningserviceowner/listkeys?{DpsApi}", null), HttpStatusCode.OK);
            ownerKey = keys["primaryKey"]!.GetValue<string>();

            // DPS service API: an enrollment group on the verified root.
            using var service = ServiceClient(first, ownerKey);
            var enrollment = await ExpectAsync(service.PutAsync($"/enrollmentGroups/durable-group?{ServiceApi}", Json(DeviceTestEnvironment.X509Group("durable-group", "root-ca"))), HttpStatusCode.OK);
            groupEtag = enrollment["etag"]!.GetValue<string>();

            // Device API: an X.509 registration over HTTPS mTLS, which writes the registration and the hub device.
            using (var deviceClient = first.CreateClient(device.Certificate, device.Intermediates))
            {
                var registered = await ExpectAsync(deviceClient.PutAsync($"/{idScope}/registrations/{device.RegistrationId}/register?api-version=2019-03-31",
                    Json(new JsonObject { ["registrationId"] = device.RegistrationId })), HttpStatusCode.OK);
                Assert.Equal("assigned", registered["status"]!.GetValue<string>());
            }

            // Concurrent writes (group-committed together), then writes racing for one key.
            await Task.WhenAll(burst.Select(name => ExpectAsync(first.Arm.PutAsync($"{rgPath}/{name}?{RgApi}", Json(new JsonObject { ["location"] = "eastus" })), HttpStatusCode.Created)));
            await Task.WhenAll(Enumerable.Range(0, 32).Select(i => ExpectAsync(first.Arm.PutAsync($"{rgPath}/contested-rg?{RgApi}",
                Json(new JsonObject { ["location"] = "eastus", ["tags"] = new JsonObject { ["writer"] = $"{i}" } })), HttpStatusCode.Created, HttpStatusCode.OK)));
            var served = await ExpectAsync(first.Arm.GetAsync($"{rgPath}/contested-rg?{RgApi}"), HttpStatusCode.OK);
            contestedTag = served["tags"]!["writer"]!.GetValue<string>();

            await first.KillHardAsync(); // right after the last acknowledgement: nothing gets to flush or close
        }

        await using var second = await StandaloneEmulator.StartAsync(_folder);
        var path = RgPath(second);
        for (var i = 0; i < 3; i++)
        {
            var rg = await ExpectAsync(second.Arm.GetAsync($"{path}/durable-rg-{i}?{RgApi}"), HttpStatusCode.OK);
            Assert.Equal($"{i}", rg["tags"]!["i"]!.GetValue<string>());
        }

        foreach (var name in burst)
        {
            await ExpectAsync(second.Arm.GetAsync($"{path}/{name}?{RgApi}"), HttpStatusCode.OK);
        }

        var contested = await ExpectAsync(second.Arm.GetAsync($"{path}/contested-rg?{RgApi}"), HttpStatusCode.OK);
        Assert.Equal(contestedTag, contested["tags"]!["writer"]!.GetValue<string>()); // the value served before the crash, not an older one

        var devices = $"{path}/{second.Endpoints.ResourceGroup}/providers/Microsoft.Devices";
        await ExpectAsync(second.Arm.GetAsync($"{devices}/IotHubs/{hubName}?{HubApi}"), HttpStatusCode.OK);
        var dpsAfter = await ExpectAsync(second.Arm.GetAsync($"{devices}/provisioningServices/{dpsName}?{DpsApi}"), HttpStatusCode.OK);
        Assert.Equal(idScope, dpsAfter["properties"]!["idScope"]!.GetValue<string>());
        Assert.Equal($"{hubName}.azure-devices.net", dpsAfter["properties"]!["iotHubs"]![0]!["name"]!.GetValue<string>());
        var certificate = await ExpectAsync(second.Arm.GetAsync($"{devices}/provisioningServices/{dpsName}/certificates/root-ca?{DpsApi}"), HttpStatusCode.OK);
        Assert.True(certificate["properties"]!["isVerified"]!.GetValue<bool>());

        using (var service = ServiceClient(second, ownerKey))
        {
            var group = await ExpectAsync(service.GetAsync($"/enrollmentGroups/durable-group?{ServiceApi}"), HttpStatusCode.OK);
            Assert.Equal(groupEtag, group["etag"]!.GetValue<string>());
            var registration = await ExpectAsync(service.GetAsync($"/registrations/{device.RegistrationId}?{ServiceApi}"), HttpStatusCode.OK);
            Assert.Equal($"{hubName}.azure-devices.net", registration["assignedHub"]!.GetValue<string>());
        }

        // The device registers again: DPS remembers its first assignment, so this is a re-provisioning.
        using var again = second.CreateClient(device.Certificate, device.Intermediates);
        var reprovisioned = await ExpectAsync(again.PutAsync($"/{idScope}/registrations/{device.RegistrationId}/register?api-version=2019-03-31",
            Json(new JsonObject { ["registrationId"] = device.RegistrationId })), HttpStatusCode.OK);
        Assert.Equal("reprovisionedToInitialAssignment", reprovisioned["registrationState"]!["substatus"]!.GetValue<string>());
    }

    [Fact]
    public async Task Writes_acknowledged_while_others_are_in_flight_survive_kill_9()
    {
        const int total = 160, killAfter = 48;
        var acknowledged = new ConcurrentBag<string>();
        await using (var first = await StandaloneEmulator.StartAsync(_folder))
        {
            var rgPath = RgPath(first);
            var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var count = 0;
            async Task PutAsync(int i)
            {
                var name = $"inflight-rg-{i:D3}";
                try
                {
                    using var response = await first.Arm.PutAsync($"{rgPath}/{name}?{RgApi}", Json(new JsonObject { ["location"] = "eastus" }));
                    if (!response.IsSuccessStatusCode) return;
                    acknowledged.Add(name);
                    if (Interlocked.Increment(ref count) == killAfter)
                    {
                        await first.KillHardAsync(); // while the other requests are still being written
                        killed.TrySetResult();
                    }
                }
                catch (HttpRequestException)
                {
                    // the process died under this request: not acknowledged, no promise made
                }
            }

            var writes = Enumerable.Range(0, total).Select(PutAsync).ToArray();
            await Task.WhenAll(writes);
            Assert.True(killed.Task.IsCompleted, $"only {count} of {total} writes were acknowledged before the requests ended:\n{first.Output}");
        }

        await using var second = await StandaloneEmulator.StartAsync(_folder);
        var path = RgPath(second);
        var missing = new List<string>();
        foreach (var name in acknowledged)
        {
            using var response = await second.Arm.GetAsync($"{path}/{name}?{RgApi}");
            if (response.StatusCode != HttpStatusCode.OK) missing.Add(name);
        }

        Assert.True(acknowledged.Count >= killAfter);
        Assert.True(missing.Count == 0, $"acknowledged before the kill but gone after the restart: {string.Join(", ", missing)}");
    }

    [Fact]
    public async Task SIGTERM_makes_the_emulator_exit_with_0_and_keeps_its_writes()
    {
        await using (var first = await StandaloneEmulator.StartAsync(_folder))
        {
            await ExpectAsync(first.Arm.PutAsync($"{RgPath(first)}/before-sigterm?{RgApi}", Json(new JsonObject { ["location"] = "eastus" })), HttpStatusCode.Created);

            await first.TerminateAsync();

            Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"still running 30 s after SIGTERM:\n{first.Output}");
            Assert.True(first.ExitCode == 0, $"exit code {first.ExitCode}:\n{first.Output}");
        }

        await using var second = await StandaloneEmulator.StartAsync(_folder);
        await ExpectAsync(second.Arm.GetAsync($"{RgPath(second)}/before-sigterm?{RgApi}"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_journal_replays_racing_writes_of_one_key_in_the_order_they_were_applied()
    {
        // Regression: transactions were queued for the journal after leaving the store lock, so two writers of one
        // key could be journaled in the opposite order and the older value came back after a restart.
        const int keys = 1500, writers = 4;
        var directory = Path.Combine(_folder, "state");
        var store = await EmulatorStore.OpenAsync(directory, CancellationToken.None);
        string[] served;
        try
        {
            using var barrier = new Barrier(writers);
            var threads = Enumerable.Range(0, writers).Select(writer => new Thread(() =>
            {
                var pending = new List<Task>();
                for (var k = 0; k < keys; k++)
                {
                    barrier.SignalAndWait(); // all writers hit the same key at the same moment
                    pending.Add(store.WriteAsync(tx => tx.Put(store.ResourceGroups, $"k{k}", new ResourceGroupEntity("s", $"k{k}", "eastus", new() { ["writer"] = $"{writer}" }))));
                }

                Task.WaitAll(pending);
            })).ToArray();
            foreach (var thread in threads) thread.Start();
            foreach (var thread in threads) thread.Join();
            served = Enumerable.Range(0, keys).Select(k => store.ResourceGroups.Get($"k{k}")!.Tags["writer"]).ToArray();
        }
        finally
        {
            await store.DisposeAsync();
        }

        await using var reopened = await EmulatorStore.OpenAsync(directory, CancellationToken.None);
        var differing = Enumerable.Range(0, keys).Where(k => reopened.ResourceGroups.Get($"k{k}")!.Tags["writer"] != served[k]).ToList();
        Assert.True(differing.Count == 0, $"{differing.Count} of {keys} keys came back with an older value, e.g. k{differing.FirstOrDefault()}");
    }

    private static string RgPath(StandaloneEmulator emulator) => $"/subscriptions/{emulator.Endpoints.SubscriptionId}/resourcegroups";

    private static StringContent Json(JsonNode body) => EmulatorHarness.Json(body);

    private static HttpClient ServiceClient(StandaloneEmulator emulator, string ownerKey)
    {
        var client = emulator.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization",
            TestSas.Token(emulator.Endpoints.ServiceHost, "provisioningserviceowner", ownerKey, DateTimeOffset.UtcNow.AddHours(1)));
        return client;
    }

    private static async Task<JsonNode> ExpectAsync(Task<HttpResponseMessage> call, params HttpStatusCode[] expected)
    {
        using var response = await call;
        var body = await EmulatorHarness.ReadJsonAsync(response);
        Assert.True(expected.Contains(response.StatusCode), $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}: {(int)response.StatusCode} {body?.ToJsonString()}");
        return body ?? new JsonObject();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
