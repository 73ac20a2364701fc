using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hub;
using CheeseCave.Emulator.Tests.Device;

namespace CheeseCave.Emulator.Tests.Hub;

/// <summary>The hub's telemetry stream (GET /messages/events/stream, ours): order, resuming, filtering, refusals; and the store under it.</summary>
public sealed class TelemetryStreamTests
{
    [Fact]
    public async Task The_stream_delivers_each_device_messages_in_order_and_resumes_after_the_last_event_id()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        var first = await HubTestKit.ProvisionAsync(env, pki, "cave-020");
        var second = await HubTestKit.ProvisionAsync(env, pki, "cave-021");
        await using var device = await HubMqttDevice.ConnectAsync(env, first);
        await using var other = await HubMqttDevice.ConnectAsync(env, second);
        using var service = env.HubClient("cave-hub");

        var hubEvents = new List<(long Id, JsonNode Data)>();
        var deviceEvents = new List<(long Id, JsonNode Data)>();
        await using (var hubStream = await SseStream.OpenAsync(service, "/messages/events/stream" + HubTestKit.Api + "&after=0"))
        await using (var deviceStream = await SseStream.OpenAsync(service, "/devices/cave-020/messages/events/stream" + HubTestKit.Api + "&after=0"))
        {
            for (var n = 0; n < 5; n++)
            {
                await device.PublishAsync("devices/cave-020/messages/events/%24.ct=application%2Fjson&room=cellar", $"{{\"n\":{n}}}");
                await other.PublishAsync("devices/cave-021/messages/events/", $"{{\"other\":{n}}}");
            }

            hubEvents.AddRange(await hubStream.ReadAsync(10));
            deviceEvents.AddRange(await deviceStream.ReadAsync(5));
        }

        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), hubEvents.Select(e => e.Id));
        Assert.Equal(hubEvents.Select(e => e.Id), hubEvents.Select(e => e.Data["sequenceNumber"]!.GetValue<long>()));
        Assert.Equal([0, 1, 2, 3, 4], hubEvents.Where(e => e.Data.Str("deviceId") == "cave-020").Select(e => e.Data["body"]!["n"]!.GetValue<int>()));
        Assert.Equal([0, 1, 2, 3, 4], deviceEvents.Select(e => e.Data["body"]!["n"]!.GetValue<int>()));
        Assert.All(deviceEvents, e => Assert.Equal("cellar", e.Data.Str("properties", "room")));
        Assert.All(deviceEvents, e => Assert.Equal("application/json", e.Data.Str("systemProperties", "$.ct")));

        // A reconnecting reader sends the last id it saw and gets exactly what followed, old and new.
        await device.PublishAsync("devices/cave-020/messages/events/", "{\"n\":5}");
        var resumeAfter = deviceEvents[2].Id;
        await using var resumed = await SseStream.OpenAsync(service, "/devices/cave-020/messages/events/stream" + HubTestKit.Api, lastEventId: resumeAfter);
        var rest = await resumed.ReadAsync(3);
        Assert.Equal([3, 4, 5], rest.Select(e => e.Data["body"]!["n"]!.GetValue<int>()));
        Assert.All(rest, e => Assert.True(e.Id > resumeAfter));
    }

    [Fact]
    public async Task The_stream_refuses_a_missing_signature_an_unknown_device_and_a_bad_last_event_id()
    {
        using var pki = new TestPki();
        await using var env = await DeviceTestEnvironment.StartAsync();
        await HubTestKit.ProvisionAsync(env, pki, "cave-022");
        using var anonymous = env.Harness.CreateClient(null);
        using var service = env.HubClient("cave-hub");

        Assert.Equal(HttpStatusCode.Unauthorized, await SseStream.StatusAsync(anonymous, "/messages/events/stream" + HubTestKit.Api));
        Assert.Equal(HttpStatusCode.NotFound, await SseStream.StatusAsync(service, "/devices/nobody/messages/events/stream" + HubTestKit.Api));
        Assert.Equal(HttpStatusCode.BadRequest, await SseStream.StatusAsync(service, "/messages/events/stream" + HubTestKit.Api, lastEventId: "not-a-number"));
    }

    [Fact]
    public async Task The_store_keeps_the_newest_messages_in_order_and_wakes_a_waiting_reader()
    {
        var store = new TelemetryStore(TimeProvider.System);
        var identity = new HubDeviceIdentity("cave-hub", "cave-hub.azure-devices.net", "cave-030");
        var waiting = store.WaitAsync("cave-hub", 0, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        var total = TelemetryStore.MaxMessagesPerHub + 5;
        for (var i = 0; i < total; i++)
        {
            store.Add(identity, [(byte)'0'], new Dictionary<string, string>(), new Dictionary<string, string>());
        }

        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(total, store.LastSequence("cave-hub"));
        Assert.False(store.WaitAsync("cave-hub", total, CancellationToken.None).IsCompleted);

        // A reader from the start finds the oldest kept message: the jump in sequence numbers shows what it missed.
        var (oldest, through) = store.ReadPage("cave-hub", null, 0, 3);
        Assert.Equal([6L, 7L, 8L], oldest.Select(m => m.SequenceNumber));
        Assert.Equal(8, through);
        Assert.Equal(Enumerable.Range(total - 2, 3).Select(i => (long)i), store.Latest("cave-hub", "cave-030", 3).Select(m => m.SequenceNumber));
        Assert.Equal(total - 1, store.Read("cave-hub", null, total - 2, 1)[0].SequenceNumber);
        var (none, end) = store.ReadPage("cave-hub", "someone-else", total - 10, 100);
        Assert.Empty(none);
        Assert.Equal(total, end);
    }
}
