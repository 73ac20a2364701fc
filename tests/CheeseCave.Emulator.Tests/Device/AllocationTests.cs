using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Device;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Tests.Device;

/// <summary>Allocation policies over the linked hubs and the reprovision policy on re-registration.</summary>
public sealed class AllocationTests
{
    [Fact]
    public async Task Hashed_allocation_spreads_devices_by_weight_and_is_deterministic()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync("Hashed", hubs: [("hub-light", "westeurope", 1), ("hub-heavy", "westeurope", 3)]);
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        var linked = env.Store.ProvisioningServices.Get(ArmKeys.ProvisioningService(env.DpsName))!.IotHubs.OrderBy(h => h.HostName).ToList();

        var assigned = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            var id = $"wheel-{i:D3}";
            var (status, body, _) = await env.RegisterAsync(pki.IssueDevice(id));
            Assert.Equal(HttpStatusCode.OK, status);
            var hub = body.Str("registrationState", "assignedHub");
            Assert.Equal(HubAllocator.Hashed(linked, id).HostName, hub);
            assigned.Add(hub);
        }

        var light = assigned.Count(h => h == "hub-light.azure-devices.net");
        var heavy = assigned.Count(h => h == "hub-heavy.azure-devices.net");
        Assert.Equal(50, light + heavy);
        Assert.True(light > 0, "the light hub got no device");
        Assert.True(heavy > light, $"weights 1:3 gave {light}:{heavy}");
    }

    [Fact]
    public async Task Static_allocation_uses_the_single_listed_hub_and_fails_plainly_with_two()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync("Hashed", hubs: [("hub-a", "westeurope", 1), ("hub-b", "westeurope", 1)]);
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.AddCertificateAsync("intermediate-ca", pki.Intermediate.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("static-one", "intermediate-ca", iotHubs: ["hub-b"], allocationPolicy: "static"));

        var (_, one, _) = await env.RegisterAsync(pki.IssueDevice("static-001"));
        Assert.Equal("hub-b.azure-devices.net", one.Str("registrationState", "assignedHub"));

        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("static-one", "intermediate-ca", iotHubs: ["hub-a", "hub-b"], allocationPolicy: "static"));
        var (status, two, _) = await env.RegisterAsync(pki.IssueDevice("static-002"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("failed", two.Str("status"));
        Assert.Contains("exactly one IoT hub", two.Str("registrationState", "errorMessage"), StringComparison.Ordinal);
        Assert.Equal("failed", env.Registration("static-002")!.Status);
    }

    [Fact]
    public async Task GeoLatency_prefers_the_hub_in_the_region_of_the_DPS()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync("GeoLatency", dpsLocation: "West Europe",
            hubs: [("hub-aa-us", "eastus", 1), ("hub-zz-eu", "westeurope", 1)]);
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));

        for (var i = 0; i < 3; i++)
        {
            var (_, body, _) = await env.RegisterAsync(pki.IssueDevice($"geo-{i}"));
            Assert.Equal("hub-zz-eu.azure-devices.net", body.Str("registrationState", "assignedHub"));
        }
    }

    [Fact]
    public async Task Custom_allocation_is_reported_as_not_emulated()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca", allocationPolicy: "custom"));

        var (status, body, _) = await env.RegisterAsync(pki.IssueDevice("custom-001"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not emulated", body.Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Re_registration_follows_the_reprovision_policy_with_its_substatus_values()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync(hubs: [("hub-a", "westeurope", 1), ("hub-b", "westeurope", 1)]);
        await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
        var device = pki.IssueDevice("rind-001");

        async Task<JsonNode> Register(JsonObject group)
        {
            await env.PutEnrollmentAsync(group);
            var (status, body, _) = await env.RegisterAsync(device);
            Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
            return body["registrationState"]!;
        }

        var first = await Register(DeviceTestEnvironment.X509Group("g", "root-ca", iotHubs: ["hub-a"]));
        Assert.Equal(("hub-a.azure-devices.net", "initialAssignment"), (first.Str("assignedHub"), first.Str("substatus")));

        // The device's twin changes in hub-a; a migration carries that state along.
        var inA = env.HubDevice("hub-a", "rind-001")!;
        await env.Store.WriteAsync(tx => tx.Put(env.Store.HubDevices, ArmKeys.HubDevice("hub-a", "rind-001"), inA with { Tags = new JsonObject { ["cave"] = "changed-in-hub" } }));

        var same = await Register(DeviceTestEnvironment.X509Group("g", "root-ca", iotHubs: ["hub-a"]));
        Assert.Equal(("hub-a.azure-devices.net", "reprovisionedToInitialAssignment"), (same.Str("assignedHub"), same.Str("substatus")));

        var migrated = await Register(DeviceTestEnvironment.X509Group("g", "root-ca", iotHubs: ["hub-b"]));
        Assert.Equal(("hub-b.azure-devices.net", "deviceDataMigrated"), (migrated.Str("assignedHub"), migrated.Str("substatus")));
        Assert.Null(env.HubDevice("hub-a", "rind-001"));
        Assert.Equal("changed-in-hub", env.HubDevice("hub-b", "rind-001")!.Tags["cave"]!.GetValue<string>());

        var reset = await Register(DeviceTestEnvironment.X509Group("g", "root-ca", iotHubs: ["hub-a"], migrateDeviceData: false));
        Assert.Equal(("hub-a.azure-devices.net", "deviceDataReset"), (reset.Str("assignedHub"), reset.Str("substatus")));
        Assert.Equal("roquefort", env.HubDevice("hub-a", "rind-001")!.Tags["cave"]!.GetValue<string>());
        Assert.Null(env.HubDevice("hub-b", "rind-001"));

        var resetInPlace = await Register(DeviceTestEnvironment.X509Group("g", "root-ca", iotHubs: ["hub-a"], migrateDeviceData: false));
        Assert.Equal("deviceDataReset", resetInPlace.Str("substatus"));

        var never = await Register(DeviceTestEnvironment.X509Group("g", "root-ca", iotHubs: ["hub-b"], updateHubAssignment: false));
        Assert.Equal(("hub-a.azure-devices.net", "deviceDataReset"), (never.Str("assignedHub"), never.Str("substatus")));
        Assert.NotNull(env.HubDevice("hub-a", "rind-001"));

        var record = env.Registration("rind-001")!;
        Assert.Equal(first.Str("createdDateTimeUtc"), never.Str("createdDateTimeUtc"));
        Assert.NotEqual(first.Str("etag"), record.Etag);
    }

    [Fact]
    public async Task Registration_records_and_hub_devices_survive_a_restart()
    {
        using var pki = new TestPki();
        var folder = Path.Combine(Path.GetTempPath(), "cheesecave-device-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            string operationId;
            var device = pki.IssueDevice("durable-001");
            await using (var env = await DeviceTestEnvironment.StartAsync(configure: o => { o.InMemory = false; o.DataDirectory = folder; }))
            {
                await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
                await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
                var (_, body, _) = await env.RegisterAsync(device);
                operationId = body.Str("operationId");
            }

            await using var harness = await EmulatorHarness.StartAsync(o => { o.InMemory = false; o.DataDirectory = folder; });
            var store = harness.Server.Context.Store;
            Assert.Equal("assigned", store.Registrations.Get(ArmKeys.Registration("cave-dps", "durable-001"))!.Status);
            Assert.NotNull(store.HubDevices.Get(ArmKeys.HubDevice("cave-hub", "durable-001")));
            Assert.NotNull(store.Operations.Get(operationId));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_hash_is_stable_and_ignores_case()
    {
        var hubs = new List<LinkedHub>
        {
            new("HostName=a.azure-devices.net;SharedAccessKeyName=k;SharedAccessKey=a2V5", "x", true, 1),
            new("HostName=b.azure-devices.net;SharedAccessKeyName=k;SharedAccessKey=a2V5", "x", true, 1),
        };
        Assert.Equal(HubAllocator.Hashed(hubs, "Device-1").HostName, HubAllocator.Hashed(hubs, "device-1").HostName);
    }
}
