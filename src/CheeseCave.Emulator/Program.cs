using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Emulator;

// dotnet run --project src/CheeseCave.Emulator -- --data-dir DIR [--https-port P] [--mqtt-port P] [--amqp-port P] [--bind ADDR] [--in-memory]
// Fault injection and other settings bind from the usual configuration syntax, e.g. --Faults:Device:ThrottleRate 0.2
/// <summary>The standalone emulator process (an explicit class, so the portal can reference this assembly without two Program types).</summary>
internal static class EmulatorProgram
{
    public static async Task<int> Main(string[] args)
    {
        var options = new EmulatorOptions();
        var rest = new List<string>();
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--data-dir": options.DataDirectory = Value(); break;
                    case "--https-port": options.HttpsPort = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                    case "--mqtt-port": options.MqttPort = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                    case "--amqp-port": options.AmqpPort = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                    case "--bind": options.BindAddress = Value(); break;
                    case "--in-memory": options.InMemory = true; break;
                    case "--help" or "-h":
                        Console.WriteLine("usage: CheeseCave.Emulator --data-dir DIR [--https-port 5543] [--mqtt-port 8883|-1] [--amqp-port 5671|0] [--bind 127.0.0.1] [--in-memory] [--Timing instant|azure-like]");
                        return 0;
                    default: rest.Add(args[i]); break;
                }
            }

            new ConfigurationBuilder().AddCommandLine([.. rest]).Build().Bind(options);
            _ = EmulatorTimings.IsAzureLike(options.Timing); // --Timing instant|azure-like; anything else is refused here
            if (options.DataDirectory is null && !options.InMemory)
            {
                throw new ArgumentException("--data-dir is required (or --in-memory).");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            Console.Error.WriteLine("emulator: error: " + ex.Message);
            return 2;
        }


        var started = System.Diagnostics.Stopwatch.StartNew();
        EmulatorServer server;
        try
        {
            server = await EmulatorServer.StartAsync(options);
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"emulator: error: cannot listen ({ex.Message}). Is another emulator running? Choose other ports with --https-port/--mqtt-port.");
            return 1;
        }

        await using (server)
        {
            Console.WriteLine($"CheeseCave emulator ready in {started.ElapsedMilliseconds} ms: ARM, DPS service and device API at {server.Endpoints.ArmEndpoint}"
                + (server.Endpoints.MqttHost is { } mqtt ? $", MQTT at mqtts://{mqtt}" : string.Empty)
                + (server.Endpoints.AmqpHost is { } amqp ? $", AMQP at amqps://{amqp}" : string.Empty) + ".");
            Console.WriteLine($"Trust bundle: {server.Endpoints.TrustBundle}; connection details: {Path.Combine(server.DataDirectory, EmulatorEndpoints.FileName)}");
            try
            {
                // The host's console lifetime turns SIGTERM and Ctrl+C into Stopping.
                await Task.Delay(Timeout.Infinite, server.Stopping);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return 0;
    }
}
