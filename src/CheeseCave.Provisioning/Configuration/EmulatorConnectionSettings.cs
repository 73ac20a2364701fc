using System.Text.Json;
using System.Text.Json.Serialization;

namespace CheeseCave.Provisioning.Configuration;

/// <summary>
/// How to reach a running CheeseCave emulator: the values of its endpoints.json. <see cref="TrustBundlePem"/> (or the
/// file at <see cref="TrustBundlePath"/>) is the emulator's own CA, the only certificate the clients will trust.
/// </summary>
public sealed record EmulatorConnectionSettings
{
    /// <summary>The ARM endpoint, e.g. https://localhost:5543.</summary>
    public required Uri ArmEndpoint { get; init; }

    public required string SubscriptionId { get; init; }

    /// <summary>The emulator's bearer token (it changes at each start).</summary>
    public required string BearerToken { get; init; }

    /// <summary>The seeded resource group, offered as the default.</summary>
    public string? ResourceGroup { get; init; }

    /// <summary>The device registration host, host[:port]; defaults to the ARM endpoint's authority.</summary>
    public string? DeviceProvisioningHost { get; init; }

    /// <summary>The MQTT host, host:port; null when the emulator runs without MQTT.</summary>
    public string? MqttHost { get; init; }

    /// <summary>The emulator CA as PEM text. Either this or <see cref="TrustBundlePath"/>.</summary>
    public string? TrustBundlePem { get; init; }

    /// <summary>The path of the emulator CA PEM file. Either this or <see cref="TrustBundlePem"/>.</summary>
    public string? TrustBundlePath { get; init; }

    /// <summary>Reads endpoints.json as the emulator writes it; a relative trustBundle is taken relative to the file.</summary>
    public static async Task<EmulatorConnectionSettings> ReadEndpointsFileAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        EndpointsFile? file;
        try
        {
            var stream = File.OpenRead(path);
            await using (stream.ConfigureAwait(false))
            {
                file = await JsonSerializer.DeserializeAsync<EndpointsFile>(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not the emulator's endpoints.json: {ex.Message}", ex);
        }

        if (file?.ArmEndpoint is null || file.SubscriptionId is null || file.BearerToken is null || file.TrustBundle is null)
        {
            throw new InvalidDataException($"'{path}' lacks armEndpoint, subscriptionId, bearerToken or trustBundle; is it the emulator's endpoints.json?");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        return new EmulatorConnectionSettings
        {
            ArmEndpoint = new Uri(file.ArmEndpoint, UriKind.Absolute),
            SubscriptionId = file.SubscriptionId,
            BearerToken = file.BearerToken,
            ResourceGroup = file.ResourceGroup,
            DeviceProvisioningHost = file.DeviceProvisioningHost,
            MqttHost = file.MqttHost,
            TrustBundlePath = Path.IsPathRooted(file.TrustBundle) ? file.TrustBundle : Path.Combine(directory, file.TrustBundle),
        };
    }

    /// <summary>Never shows the bearer token.</summary>
    public override string ToString() => $"Emulator at {ArmEndpoint}";

    private sealed record EndpointsFile(
        [property: JsonPropertyName("armEndpoint")] string? ArmEndpoint,
        [property: JsonPropertyName("subscriptionId")] string? SubscriptionId,
        [property: JsonPropertyName("resourceGroup")] string? ResourceGroup,
        [property: JsonPropertyName("trustBundle")] string? TrustBundle,
        [property: JsonPropertyName("deviceProvisioningHost")] string? DeviceProvisioningHost,
        [property: JsonPropertyName("serviceHost")] string? ServiceHost,
        [property: JsonPropertyName("mqttHost")] string? MqttHost,
        [property: JsonPropertyName("bearerToken")] string? BearerToken);
}

/// <summary>
/// What a host binds from configuration (e.g. the "CheeseCave:Provisioning" section) to choose the target without
/// code changes: Target = Emulator (default) with the emulator's endpoints.json, or Target = Azure.
/// </summary>
public sealed class ProvisioningConnectionSettings
{
    public ProvisioningTarget Target { get; set; } = ProvisioningTarget.Emulator;

    /// <summary>Emulator: the path of its endpoints.json.</summary>
    public string? EmulatorEndpointsFile { get; set; }

    /// <summary>Azure: the subscription to use; when empty, the first one the credential can see.</summary>
    public string? SubscriptionId { get; set; }
}
