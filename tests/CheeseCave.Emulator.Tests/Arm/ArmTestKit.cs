using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Tests.Arm;

/// <summary>One emulator per test class (names are unique per test, so tests do not see each other's resources).</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public EmulatorHarness Emulator { get; private set; } = null!;

    public async Task InitializeAsync() => Emulator = await EmulatorHarness.StartAsync(o => o.MqttPort = -1);

    public async Task DisposeAsync() => await Emulator.DisposeAsync();
}

/// <summary>Raw ARM calls as an SDK would make them, with the emulator's bearer token.</summary>
public sealed class ArmCalls(EmulatorHarness emulator)
{
    public const string DpsApi = "2022-02-05";
    public const string HubApi = "2023-06-30";

    public EmulatorHarness Emulator { get; } = emulator;

    public string Group => Emulator.ResourceGroupPath;

    public string DpsPath(string name) => $"{Group}/providers/Microsoft.Devices/provisioningServices/{name}";

    public string HubPath(string name) => $"{Group}/providers/Microsoft.Devices/IotHubs/{name}";

    public string CertPath(string dps, string cert) => $"{DpsPath(dps)}/certificates/{cert}";

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 50)];

    public static string Api(string path, string version = DpsApi) => path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "api-version=" + version;

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, JsonNode? body = null, string? ifMatch = null, string version = DpsApi)
    {
        var request = new HttpRequestMessage(method, Api(path, version));
        if (body is not null) request.Content = EmulatorHarness.Json(body);
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return Emulator.Arm.SendAsync(request);
    }

    public async Task<(HttpStatusCode Status, JsonObject? Body, HttpResponseMessage Response)> CallAsync(HttpMethod method, string path, JsonNode? body = null, string? ifMatch = null, string version = DpsApi)
    {
        var response = await SendAsync(method, path, body, ifMatch, version);
        return (response.StatusCode, await EmulatorHarness.ReadJsonAsync(response) as JsonObject, response);
    }

    public async Task<JsonObject> CreateHubAsync(string name, string sku = "S1")
    {
        var (status, body, _) = await CallAsync(HttpMethod.Put, HubPath(name), new JsonObject { ["location"] = "eastus", ["sku"] = new JsonObject { ["name"] = sku, ["capacity"] = 1 }, ["properties"] = new JsonObject() }, version: HubApi);
        Assert.Equal(HttpStatusCode.Created, status);
        return body!;
    }

    public async Task<string> HubConnectionStringAsync(string hub, string policy = "iothubowner")
    {
        var (status, body, _) = await CallAsync(HttpMethod.Post, $"{HubPath(hub)}/IotHubKeys/{policy}/listkeys", version: HubApi);
        Assert.Equal(HttpStatusCode.OK, status);
        return $"HostName={hub.ToLowerInvariant()}.azure-devices.net;SharedAccessKeyName={policy};SharedAccessKey={body!["primaryKey"]!.GetValue<string>()}";
    }

    public static JsonObject DpsBody(params JsonObject[] hubs) => new()
    {
        ["location"] = "eastus",
        ["sku"] = new JsonObject { ["name"] = "S1", ["capacity"] = 1 },
        ["properties"] = new JsonObject { ["iotHubs"] = new JsonArray([.. hubs]) },
    };

    public static JsonObject Link(string connectionString, int? weight = null) => weight is null
        ? new JsonObject { ["connectionString"] = connectionString, ["location"] = "eastus" }
        : new JsonObject { ["connectionString"] = connectionString, ["location"] = "eastus", ["allocationWeight"] = weight };

    public async Task<JsonObject> CreateDpsAsync(string name, JsonObject? body = null)
    {
        var (status, json, _) = await CallAsync(HttpMethod.Put, DpsPath(name), body ?? DpsBody());
        Assert.Equal(HttpStatusCode.Created, status);
        return json!;
    }

    public static string Etag(JsonObject body) => body["etag"]!.GetValue<string>();

    /// <summary>The emulator's code name: error.code in ARM's shape, details in the DPS provider's flat shape.</summary>
    public static string ErrorCode(JsonObject? body) => body!["error"] is { } error ? error["code"]!.GetValue<string>() : body["details"]!.GetValue<string>();

    public static string ErrorMessage(JsonObject? body) => (body!["error"] ?? body)["message"]!.GetValue<string>();

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    public static MediaTypeHeaderValue? ContentType(HttpResponseMessage response) => response.Content.Headers.ContentType;
}
