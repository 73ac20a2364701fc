using System.Security.Cryptography;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Hosting;

/// <summary>What every surface of a running emulator shares: its options, state, clock and advertised hosts.</summary>
internal sealed class EmulatorContext(EmulatorOptions options, EmulatorStore store, TimeProvider time, EmulatorTls tls, string bearerToken)
{
    public EmulatorOptions Options { get; } = options;

    public EmulatorStore Store { get; } = store;

    public TimeProvider Time { get; } = time;

    public EmulatorTls Tls { get; } = tls;

    /// <summary>The token ARM callers must present (written to endpoints.json), so only clients given it can change state.</summary>
    public string BearerToken { get; } = bearerToken;

    /// <summary>"host" or "host:port" as a client must address the HTTPS endpoint (no port when it is 443).</summary>
    public string HttpsHost { get; set; } = "localhost";

    public string MqttHost { get; set; } = "localhost";

    /// <summary>The ARM long-running operations in flight (create, update and delete of DPS instances and hubs).</summary>
    public Arm.ArmOperations LongOperations { get; } = new(time, EmulatorTimings.IsAzureLike(options.Timing));

    /// <summary>The emulated hubs' device data plane: connections, telemetry, twins, methods, cloud-to-device.</summary>
    public Hub.HubRuntime Hub { get; } = new(store, time);

    /// <summary>A new opaque etag, in the base64 form Azure uses (for example "AAAAAAFPazE=").</summary>
    public static string NewEtag() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(8));

    /// <summary>A new ID Scope: "0ne" followed by 8 upper-case hex digits, as DPS issues them.</summary>
    public static string NewIdScope() => "0ne" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4));

    /// <summary>A new shared access key: 32 random bytes, base64.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
