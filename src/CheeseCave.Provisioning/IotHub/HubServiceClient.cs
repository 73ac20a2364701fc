using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.DpsService;
using CheeseCave.Provisioning.Errors;

namespace CheeseCave.Provisioning.IotHub;

/// <summary>
/// What a service sees of an IoT hub's devices (api-version <see cref="HubRegistryClient.ApiVersion"/>): the device
/// list with connection state and last activity, a device's twin, and, against the emulator only, the telemetry
/// devices sent. Signs a SAS with a hub policy that has RegistryRead (or RegistryWrite) and ServiceConnect, such as
/// iothubowner from ARM listkeys; the token's sr is the hub host. Against Azure it calls https://{hub host}/; the
/// emulator serves every hub on its own HTTPS endpoint and finds the hub from the token.
/// </summary>
public sealed class HubServiceClient : IDisposable
{
    /// <summary>The most devices or messages one call asks for (the service's own limit).</summary>
    public const int MaxItems = 1000;

    private readonly HttpClient _http;
    private readonly RetryingHttpSender _sender;
    private readonly string _keyName;
    private readonly string _key;
    private readonly HubRegistryClientOptions _options;

    /// <param name="connectionString">HostName={hub}.azure-devices.net;SharedAccessKeyName=..;SharedAccessKey=.. of a policy with RegistryRead and ServiceConnect.</param>
    /// <param name="connection">Azure, or the emulator (its address and certificate trust).</param>
    public HubServiceClient(string connectionString, ProvisioningConnection connection, HubRegistryClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(connection);
        var parts = ConnectionStrings.Parse(connectionString);
        string Required(string name) => parts.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new FormatException($"The IoT hub connection string lacks {name}: it must look like HostName=<hub>.azure-devices.net;SharedAccessKeyName=<policy>;SharedAccessKey=<key>.");
        HostName = Required("HostName");
        _keyName = Required("SharedAccessKeyName");
        _key = Required("SharedAccessKey");
        _options = options ?? new HubRegistryClientOptions();
        _options.Retry.Validate();
        CanReadTelemetry = connection.Target == ProvisioningTarget.Emulator;
        var address = CanReadTelemetry ? connection.ArmEnvironment.Endpoint : new Uri($"https://{HostName}/");
        _http = new HttpClient(connection.CreateHttpMessageHandler(), disposeHandler: true) { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        _sender = new RetryingHttpSender(_http, _options.Retry, _options.TimeProvider, ProvisioningSurface.Service);
    }

    /// <summary>The hub host ({hub}.azure-devices.net).</summary>
    public string HostName { get; }

    /// <summary>
    /// True against the emulator, which has an HTTP endpoint for reading telemetry. Azure delivers telemetry only
    /// through the hub's Event Hubs-compatible endpoint (AMQP), which this client does not read.
    /// </summary>
    public bool CanReadTelemetry { get; }

    /// <summary>Up to <paramref name="top"/> devices, ordered by id, with their connection state and last activity.</summary>
    public async Task<IReadOnlyList<HubDeviceSummary>> ListDevicesAsync(int top = MaxItems, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        var answer = await _sender.SendAsync(() => Request($"devices?top={Math.Min(top, MaxItems).ToString(CultureInfo.InvariantCulture)}&"),
            $"list the devices of IoT hub '{HostName}'", cancellationToken).ConfigureAwait(false);
        return [.. Array(answer.Body, "a device list").Select(HubDeviceSummary.From).OrderBy(d => d.DeviceId, StringComparer.Ordinal)];
    }

    /// <summary>The device's twin, or null when the hub has no such device.</summary>
    public async Task<HubDeviceTwin?> GetTwinAsync(string deviceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceId);
        var answer = await _sender.SendAsync(() => Request($"twins/{Uri.EscapeDataString(deviceId)}?"),
            $"read the twin of device '{deviceId}' in IoT hub '{HostName}'", cancellationToken, 404).ConfigureAwait(false);
        if (answer.Status == 404) return null;
        try
        {
            return JsonNode.Parse(answer.Body) is JsonObject twin ? HubDeviceTwin.From(twin) : throw NotShaped("a twin");
        }
        catch (JsonException ex)
        {
            throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Service, 200, $"IoT hub '{HostName}' answered with something that is not a twin ({ex.Message})."), ex);
        }
    }

    /// <summary>
    /// The newest <paramref name="top"/> telemetry messages, oldest first, of one device or (null) of the whole hub.
    /// Emulator only: see <see cref="CanReadTelemetry"/>.
    /// </summary>
    public async Task<IReadOnlyList<HubTelemetryEvent>> ReadTelemetryAsync(string? deviceId, int top = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        if (!CanReadTelemetry)
        {
            throw new NotSupportedException("Azure IoT Hub delivers telemetry only through its Event Hubs-compatible endpoint (AMQP); read it with an Event Hubs client.");
        }

        var path = deviceId is null ? "messages/events" : $"devices/{Uri.EscapeDataString(deviceId)}/messages/events";
        var answer = await _sender.SendAsync(() => Request($"{path}?top={Math.Min(top, MaxItems).ToString(CultureInfo.InvariantCulture)}&"),
            $"read the telemetry of {(deviceId is null ? "" : $"device '{deviceId}' in ")}IoT hub '{HostName}'", cancellationToken, 404).ConfigureAwait(false);
        return answer.Status == 404 ? [] : [.. Array(answer.Body, "a message list").Select(HubTelemetryEvent.From)];
    }

    private HttpRequestMessage Request(string pathAndQuery)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"{pathAndQuery}api-version={HubRegistryClient.ApiVersion}");
        request.Headers.TryAddWithoutValidation("Authorization", SharedAccessSignature.Create(HostName, _keyName, _key, _options.TimeProvider.GetUtcNow() + _options.SasTokenLifetime));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    private IEnumerable<JsonObject> Array(string body, string what)
    {
        try
        {
            return JsonNode.Parse(body) is JsonArray items ? items.OfType<JsonObject>() : throw NotShaped(what);
        }
        catch (JsonException ex)
        {
            throw new ProvisioningException(new ProvisioningErrorDetails(ProvisioningSurface.Service, 200, $"IoT hub '{HostName}' answered with something that is not {what} ({ex.Message})."), ex);
        }
    }

    private ProvisioningException NotShaped(string what) =>
        new(new ProvisioningErrorDetails(ProvisioningSurface.Service, 200, $"IoT hub '{HostName}' answered with something that is not {what}."));

    public void Dispose() => _http.Dispose();
}
