using System.Text.Json;
using System.Text.Json.Serialization;

namespace CheeseCave.Emulator.Hosting;

/// <summary>endpoints.json: how clients reach this emulator. Rewritten at each start, once the emulator is ready.</summary>
public sealed record EmulatorEndpoints(
    [property: JsonPropertyName("armEndpoint")] string ArmEndpoint,
    [property: JsonPropertyName("subscriptionId")] string SubscriptionId,
    [property: JsonPropertyName("resourceGroup")] string ResourceGroup,
    [property: JsonPropertyName("trustBundle")] string TrustBundle,
    [property: JsonPropertyName("deviceProvisioningHost")] string DeviceProvisioningHost,
    [property: JsonPropertyName("serviceHost")] string ServiceHost,
    [property: JsonPropertyName("mqttHost")] string? MqttHost,
    [property: JsonPropertyName("bearerToken")] string BearerToken)
{
    public const string FileName = "endpoints.json";

    /// <summary>"host:port" of the hubs' AMQP service endpoint, when it is on (--amqp-port).</summary>
    [JsonPropertyName("amqpHost")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AmqpHost { get; init; }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public void Write(string directory)
    {
        var path = Path.Combine(directory, FileName);
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // it carries the bearer token
        }

        using (var stream = new FileStream(temp, options))
        {
            JsonSerializer.Serialize(stream, this, Json);
        }

        File.Move(temp, path, overwrite: true);
    }

    public static EmulatorEndpoints Read(string directory) =>
        JsonSerializer.Deserialize<EmulatorEndpoints>(File.ReadAllText(Path.Combine(directory, FileName)), Json)
        ?? throw new InvalidDataException($"{FileName} is empty.");
}
