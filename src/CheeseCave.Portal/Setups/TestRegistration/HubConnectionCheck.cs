using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Errors;
using CheeseCave.Provisioning.IotHub;

namespace CheeseCave.Portal.Setups.TestRegistration;

/// <summary>
/// The second half of step 10: the device DPS just assigned connects to its hub over MQTT with the same certificate
/// and chain, sends one reading of the cave (temperature, humidity) and reads its initial twin. Every failure becomes
/// a line that says what went wrong and what to do; later lines are then skipped.
/// </summary>
public static class HubConnectionCheck
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<HubCheckView> RunAsync(ProvisioningConnection connection, string hubHost, string caveName, X509Certificate2 device, X509Certificate2Collection chain,
        TimeProvider time, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var client = new HubDeviceClient(connection, new HubDeviceClientOptions { Retry = new ProvisioningRetryOptions { NetworkTimeout = TimeSpan.FromSeconds(20) }, TimeProvider = time });
        string endpoint;
        try
        {
            endpoint = client.EndpointFor(hubHost);
        }
        catch (InvalidOperationException ex)
        {
            return new HubCheckView(hubHost, "", [Failed(HubCheckStep.Connect, "Connect to the hub", ex.Message,
                "Turn the built-in emulator's MQTT listener on (CheeseCave:Emulator:MqttPort, 8883 by default, not -1) and run the test again."), .. Skipped(HubCheckStep.Telemetry, HubCheckStep.Twin)]);
        }

        var lines = new List<HubCheckLine>();
        progress?.Report($"Connecting to {hubHost} over MQTT ({endpoint})");
        HubDeviceSession session;
        try
        {
            session = await client.ConnectAsync(new HubDeviceConnectRequest(hubHost, device, chain), cancellationToken).ConfigureAwait(false);
        }
        catch (ProvisioningException ex)
        {
            return new HubCheckView(hubHost, endpoint, [Failed(HubCheckStep.Connect, "Connect to the hub", ex.Message, ConnectWhatToDo(ex, connection, hubHost, endpoint)),
                .. Skipped(HubCheckStep.Telemetry, HubCheckStep.Twin)]);
        }

        await using (session.ConfigureAwait(false))
        {
            lines.Add(new HubCheckLine(HubCheckStep.Connect, HubCheckState.Succeeded, "Connected to the hub",
                $"{session.DeviceId} connected to {hubHost} over MQTT with TLS ({endpoint}), authenticated by its certificate and chain."));

            var reading = CaveReading();
            progress?.Report("Sending one cave reading");
            try
            {
                var sent = await session.SendTelemetryAsync(new HubTelemetryMessage(reading.ToJsonString())
                {
                    Properties = new Dictionary<string, string> { ["cave"] = caveName, ["source"] = "cheesecave-portal-test" },
                }, cancellationToken).ConfigureAwait(false);
                lines.Add(new HubCheckLine(HubCheckStep.Telemetry, HubCheckState.Succeeded, "Sent telemetry",
                    $"The hub acknowledged message {sent.MessageId} ({sent.BodyBytes} bytes, application/json, property cave={caveName}).", Json: reading.ToJsonString()));
            }
            catch (ProvisioningException ex)
            {
                lines.Add(Failed(HubCheckStep.Telemetry, "Send telemetry", ex.Message, ex.IsTransient
                    ? "The connection dropped or the hub was slow: run the test again."
                    : "The hub refused the message: check the hub's daily message quota and that the device is still enabled, then run the test again."));
                lines.AddRange(Skipped(HubCheckStep.Twin));
                return new HubCheckView(hubHost, endpoint, lines);
            }

            progress?.Report("Reading the device twin");
            try
            {
                var twin = await session.GetTwinAsync(cancellationToken).ConfigureAwait(false);
                var json = new JsonObject { ["desired"] = twin.Desired.DeepClone(), ["reported"] = twin.Reported.DeepClone() };
                lines.Add(new HubCheckLine(HubCheckStep.Twin, HubCheckState.Succeeded, "Read the initial twin",
                    $"Desired properties version {twin.DesiredVersion} ({Count(twin.Desired)}), reported properties version {twin.ReportedVersion} ({Count(twin.Reported)}).",
                    Json: json.ToJsonString(Indented)));
            }
            catch (ProvisioningException ex)
            {
                lines.Add(Failed(HubCheckStep.Twin, "Read the twin", ex.Message, "Run the test again; if the twin still cannot be read, check the hub's twin operations quota."));
            }
        }

        return new HubCheckView(hubHost, endpoint, lines);
    }

    /// <summary>What a ripening cave measures: about 12 °C and 90-95 % relative humidity.</summary>
    public static JsonObject CaveReading()
    {
        var temperature = Math.Round(11.4 + (Random.Shared.NextDouble() * 1.2), 1);
        var humidity = Math.Round(90.0 + (Random.Shared.NextDouble() * 5.0), 0);
        return new JsonObject { ["temperature"] = temperature, ["humidity"] = humidity };
    }

    private static string ConnectWhatToDo(ProvisioningException ex, ProvisioningConnection connection, string hubHost, string endpoint) => ex.Status switch
    {
        401 => "DPS accepted the device but its hub did not: check in the hub that the device is enabled (a revoked device is disabled there), "
            + "that the enrollment group's CA is still verified (step 7), and that the device sends its chain. Then run the test again.",
        503 => "The hub is busy or unavailable for a moment: run the test again.",
        0 when !ex.IsTransient => "The TLS connection to the hub failed: check that the portal's host trusts the hub's server certificate (a TLS-inspecting proxy breaks it) and run the test again.",
        0 when connection.Target == ProvisioningTarget.Emulator =>
            $"The built-in emulator's MQTT endpoint ({endpoint}) did not answer: check the portal's log for the emulator and CheeseCave:Emulator:MqttPort, then run the test again.",
        0 => $"The portal's host could not reach {hubHost} on TCP port 8883: allow outbound 8883 in the firewall (or test from a network that allows it) and run the test again.",
        _ => "Run the test again; if it keeps failing, give an administrator the message above and the time.",
    };

    private static string Count(JsonObject properties) => properties.Count switch
    {
        0 => "empty",
        1 => "1 property",
        var n => n.ToString(CultureInfo.InvariantCulture) + " properties",
    };

    private static HubCheckLine Failed(HubCheckStep step, string title, string detail, string whatToDo) => new(step, HubCheckState.Failed, title, detail, whatToDo);

    private static IEnumerable<HubCheckLine> Skipped(params HubCheckStep[] steps) => steps.Select(step => new HubCheckLine(step, HubCheckState.Skipped, step switch
    {
        HubCheckStep.Telemetry => "Send telemetry",
        HubCheckStep.Twin => "Read the twin",
        _ => "Connect to the hub",
    }, "Not tried, because the line above failed."));
}
