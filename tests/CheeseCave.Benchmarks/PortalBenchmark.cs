using System.Globalization;
using CheeseCave.Portal.Hosting;
using CheeseCave.Portal.Tests.Setups;
using static CheeseCave.Benchmarks.BenchmarkFigures;

namespace CheeseCave.Benchmarks;

/// <summary>
/// The portal's own figures (issue #4, item 6):
///   start: the real portal process (<c>dotnet CheeseCave.Portal.dll</c>) on a fresh data folder and free ports,
///          timed from process start until <c>GET /</c> (anonymous, so it ends on the sign-in page) returns 200;
///          target 5 s.
///   actions: every wizard action, driven in-process through <see cref="SetupSlices"/> the way the pages call
///          it (same service, same caller checks, audit entries and SQLite writes, the embedded emulator over its real
///          HTTPS/MQTT sockets), repeated over several independent setups; the downloads also as the browser fetches
///          them (GET with the sign-in cookie over the host's socket); target p95 under 200 ms, and the long
///          operations (those the pages show progress for) report time to first progress and total.
/// Each part prints the OpenSSL P-256 reference measured just before it and the load average, since absolute times
/// drift with the machine and whatever else runs on it.
///
/// Usage (Release build): dotnet CheeseCave.Benchmarks.dll --portal [--part start|actions|both] [--starts 5]
///   [--walks 50] [--repeat 5] [--portal-dll path/to/CheeseCave.Portal.dll]
/// </summary>
public static class PortalBenchmark
{
    private sealed record Options(string Part, int Starts, int Walks, int Repeat, string? PortalDll);

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        Options options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync("benchmark: " + ex.Message);
            await Console.Error.WriteLineAsync("usage: --portal [--part start|actions|both] [--starts 5] [--walks 50] [--repeat 5] [--portal-dll path/to/CheeseCave.Portal.dll]");
            return 2;
        }

        output.WriteLine(Invariant($"Portal benchmark on {Environment.ProcessorCount} logical cores, {RuntimeText()}, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        if (options.Part is "start" or "both")
        {
            var dll = options.PortalDll ?? DefaultPortalDll();
            if (!File.Exists(dll))
            {
                await Console.Error.WriteLineAsync($"benchmark: no portal at {dll}; build it (dotnet build src/CheeseCave.Portal -c Release) or pass --portal-dll");
                return 2;
            }

            await PortalStartBenchmark.MeasureAsync(dll, options.Starts, output);
        }

        if (options.Part is "actions" or "both")
        {
            await PortalActionsBenchmark.MeasureAsync(options.Walks, options.Repeat, output);
        }

        return 0;
    }

    /// <summary>The portal built beside this benchmark in a source checkout (same configuration).</summary>
    private static string DefaultPortalDll()
    {
        var root = PortalContentRoot.FindRepositoryRoot(AppContext.BaseDirectory) ?? ".";
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        return Path.Combine(root, "src", "CheeseCave.Portal", "bin", configuration, "net10.0", "CheeseCave.Portal.dll");
    }

    private static Options Parse(string[] args)
    {
        string part = "both";
        int starts = 5, walks = 50, repeat = 5;
        string? dll = null;
        for (var i = 1; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Count()
            {
                var option = args[i];
                return int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{option} needs a positive whole number");
            }

            switch (args[i])
            {
                case "--part":
                    part = Value();
                    if (part is not ("start" or "actions" or "both"))
                    {
                        throw new ArgumentException("--part is start, actions or both");
                    }

                    break;
                case "--starts": starts = Count(); break;
                case "--walks": walks = Count(); break;
                case "--repeat": repeat = Count(); break;
                case "--portal-dll": dll = Path.GetFullPath(Value()); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new Options(part, starts, walks, repeat, dll);
    }
}
