using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace CheeseCave.Benchmarks;

/// <summary>What the portal benchmark's parts share: percentiles, invariant text and the machine's speed to read the figures against.</summary>
internal static partial class BenchmarkFigures
{
    /// <summary>Nearest-rank percentile of sorted samples.</summary>
    public static double Percentile(double[] sorted, double percent) =>
        sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>
    /// <c>openssl speed -seconds 3 ecdsap256</c> run now, on one core: the machine's speed at this minute, to read the
    /// figures against (the development machine is shared, so absolute times drift).
    /// </summary>
    public static string Reference() =>
        $"reference, same minute: openssl speed -seconds 3 ecdsap256: {OpenSslSpeed(elapsed: false)} (CPU time); with -elapsed (wall clock, shows how much of a core it got): {OpenSslSpeed(elapsed: true)}; {LoadAverage()}";

    private static string OpenSslSpeed(bool elapsed)
    {
        try
        {
            using var openssl = Process.Start(new ProcessStartInfo("openssl", elapsed ? "speed -elapsed -seconds 3 ecdsap256" : "speed -seconds 3 ecdsap256")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var stdout = openssl.StandardOutput.ReadToEndAsync();
            _ = openssl.StandardError.ReadToEndAsync();
            openssl.WaitForExit();
            var match = OpenSslLine().Match(stdout.Result);
            return match.Success
                ? $"{Number(match.Groups[1].Value)} signs/s, {Number(match.Groups[2].Value)} verifies/s"
                : "(openssl speed printed no ecdsa line)";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return "(openssl not found: " + ex.Message + ")";
        }

        static string Number(string value) => double.Parse(value, CultureInfo.InvariantCulture).ToString("#,0", CultureInfo.InvariantCulture);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";

    public static string RuntimeText() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)")]
    private static partial Regex OpenSslLine();
}
