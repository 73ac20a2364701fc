using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.IotHub;

/// <summary>Options of <see cref="HubRegistryClient"/>.</summary>
public sealed class HubRegistryClientOptions : ProvisioningClientOptions
{
    /// <summary>How long each SAS token is valid (from the TimeProvider's now).</summary>
    public TimeSpan SasTokenLifetime { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// An IoT hub's device registry (service API, api-version <see cref="ApiVersion"/>): read a device identity, and
/// enable or disable it with If-Match and the etag it read (created, disabled or enabled, when missing). Signs a SAS
/// with a hub policy that has RegistryWrite (iothubowner or registryReadWrite, from ARM listkeys); the token's sr is
/// the hub host. Against Azure it calls https://{hub host}/; against the emulator, whose hubs share its HTTPS
/// endpoint, the emulator's address, with the same hub-host token.
/// </summary>
public sealed class HubRegistryClient : IDisposable
{
    public const string ApiVersion = "2021-04-12";

    private readonly HttpClient _http;
    private readonly RetryingHttpSender _sender;
    private readonly string _hostName;
    private readonly string _keyName;
    private readonly string _key;
    private readonly HubRegistryClientOptions _options;

    /// <param name="connectionString">HostName={hub}.azure-devices.net;SharedAccessKeyName=..;SharedAccessKey=.. of a hub policy with RegistryWrite.</param>
    /// <param name="connection">Azure, or the emulator (its address and certificate trust).</param>
    public HubRegistryClient(string connectionString, ProvisioningConnection connection, HubRegistryClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(connection);
        var parts = ConnectionStrings.Parse(connectionString);
        string Required(string name) => parts.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new FormatException($"The IoT hub connection string lacks {name}: it must look like HostName=<hub>.azure-devices.net;SharedAccessKeyName=<policy>;SharedAccessKey=<key>.");
        _hostName = Required("HostName");
        _keyName = Required("SharedAccessKeyName");
        _key = Required("SharedAccessKey");
        _options = options ?? new HubRegistryClientOptions();
        _options.Retry.Validate();
        var address = connection.Target == ProvisioningTarget.Emulator ? connection.ArmEnvironment.Endpoint : new Uri($"https://{_hostName}/");
        _http = new HttpClient(connection.CreateHttpMessageHandler(), disposeHandler: true) { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        _sender = new RetryingHttpSender(_http, _options.Retry, _options.TimeProvider, ProvisioningSurface.Service);
    }

    /// <summary>The hub host the identities live in ({hub}.azure-devices.net).</summary>
    public string HostName => _hostName;

    /// <summary>The device identity, or null when the hub has no device with that id.</summary>
    public async Task<HubDeviceIdentity?> GetDeviceAsync(string deviceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceId);
        var answer = await _sender.SendAsync(() => Request(HttpMethod.Get, deviceId, null, null), $"read device '{deviceId}' in IoT hub '{_hostName}'", cancellationToken, 404).ConfigureAwait(false);
        return answer.Status == 404 ? null : HubDeviceIdentity.From(Parse(answer.Body));
    }

    /// <summary>
    /// Sets the identity's status (and reason), sending the identity read just before with If-Match = its etag, so a
    /// change made by someone else in between is not overwritten: that is a <see cref="ResourceChangedException"/>
    /// (412), never retried here. A missing identity is created with the status when <paramref name="createIfMissing"/>
    /// (as a CA-authenticated device, which is what DPS makes for an X.509 group); otherwise null is returned.
    /// </summary>
    public async Task<HubDeviceIdentity?> SetStatusAsync(string deviceId, string status, string? reason, bool createIfMissing, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceId);
        if (status is not (HubDeviceStatus.Enabled or HubDeviceStatus.Disabled))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "The status is 'enabled' or 'disabled'.");
        }

        var current = await GetDeviceAsync(deviceId, cancellationToken).ConfigureAwait(false);
        JsonObject body;
        string? ifMatch;
        if (current is null)
        {
            if (!createIfMissing)
            {
                return null;
            }

            body = new JsonObject { ["deviceId"] = deviceId, ["authentication"] = new JsonObject { ["type"] = "certificateAuthority" } };
            ifMatch = null;
        }
        else
        {
            body = (JsonObject)current.Body.DeepClone();
            ifMatch = $"\"{current.Etag}\"";
        }

        body["status"] = status;
        body["statusReason"] = reason is { Length: > 128 } ? reason[..128] : reason;
        var text = body.ToJsonString();
        var action = $"{(status == HubDeviceStatus.Enabled ? "enable" : "disable")} device '{deviceId}' in IoT hub '{_hostName}'";
        var answer = await _sender.SendAsync(() => Request(HttpMethod.Put, deviceId, text, ifMatch), action, cancellationToken, 409, 412).ConfigureAwait(false);
        if (answer.Status is 409 or 412)
        {
            throw new ResourceChangedException(new ProvisioningErrorDetails(ProvisioningSurface.Service, answer.Status,
                $"Could not {action}: someone changed the device in the hub while the portal was updating it (etag conflict). Nothing was overwritten; try again to apply the change to the current device.",
                answer.Status == 412 ? "PreconditionFailed" : "DeviceAlreadyExists"));
        }

        return HubDeviceIdentity.From(Parse(answer.Body));
    }

    private HttpRequestMessage Request(HttpMethod method, string deviceId, string? json, string? ifMatch)
    {
        var request = new HttpRequestMessage(method, $"devices/{Uri.EscapeDataString(deviceId)}?api-version={ApiVersion}");
        var token = SharedAccessSignature.Create(_hostName, _keyName, _key, _options.TimeProvider.GetUtcNow() + _options.SasTokenLifetime);
        request.Headers.TryAddWithoutValidation("Authorization", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    private static JsonObject Parse(string body) =>
        JsonNode.Parse(body) as JsonObject ?? throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Service, 200, "The IoT hub answered with something that is not a device identity."));

    public void Dispose() => _http.Dispose();
}
