using System.Net;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Tests.Device;

namespace CheeseCave.Emulator.Tests.Hub;

/// <summary>A DPS-provisioned device in "cave-hub" and a service client holding the hub owner's SAS.</summary>
internal static class HubTestKit
{
    public const string Api = "?api-version=2021-04-12";

    /// <summary>Seeds root → group, registers <paramref name="deviceId"/> through DPS over HTTPS and returns its identity.</summary>
    public static async Task<DeviceIdentity> ProvisionAsync(DeviceTestEnvironment env, TestPki pki, string deviceId)
    {
        if (env.Store.DpsCertificates.Count == 0)
        {
            await env.AddCertificateAsync("root-ca", pki.Root.Certificate, verified: true);
            await env.PutEnrollmentAsync(DeviceTestEnvironment.X509Group("cave-group", "root-ca"));
        }

        var device = pki.IssueDevice(deviceId);
        var (status, body, _) = await env.RegisterAsync(device);
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        return device;
    }

    public static async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(HttpClient client, HttpMethod method, string path, JsonNode? body = null, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, path + Api);
        if (body is not null) request.Content = EmulatorHarness.Json(body);
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        var response = await client.SendAsync(request);
        return (response.StatusCode, await EmulatorHarness.ReadJsonAsync(response), response);
    }

    /// <summary>Reads until <paramref name="done"/> holds (the hub updates connection state as the broker reports it).</summary>
    public static async Task<JsonNode> UntilAsync(Func<Task<JsonNode?>> read, Func<JsonNode, bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var value = await read();
            if (value is not null && done(value)) return value;
            await Task.Delay(20, timeout.Token);
        }
    }
}
