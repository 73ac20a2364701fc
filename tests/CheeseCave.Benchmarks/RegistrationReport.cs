using System.Globalization;

namespace CheeseCave.Benchmarks;

/// <summary>One timed run of the registration benchmark.</summary>
internal sealed record RunResult(string Store, string Mode, int Count, int Failures, double Seconds, double[] Total, double[] Handshake, double[] Request,
    double HandshakeSeconds, double RequestSeconds, string LoadBefore, string LoadAfter, double CpuMsPerRegistration = 0,
    double HandshakeCpuMs = 0, double RequestCpuMs = 0)
{
    public double Rate => Count / Seconds;
}

/// <summary>How the registration benchmark prints its runs and their summary.</summary>
internal static class RegistrationReport
{
    public static void Print(TextWriter output, int run, RunResult r)
    {
        var line = r.Mode == "new"
            ? Invariant($"  [{r.Store,-6} {r.Mode,-5} run {run}] {r.Count} registrations in {r.Seconds:0.00} s = {r.Rate:0} /s; latency p50 {P(r.Total, 50):0.0} / p95 {P(r.Total, 95):0.0} / p99 {P(r.Total, 99):0.0} ms")
                + Invariant($"; of which connect (TCP + TLS handshake) p50 {P(r.Handshake, 50):0.0} / p99 {P(r.Handshake, 99):0.0} ms, request p50 {P(r.Request, 50):0.0} / p99 {P(r.Request, 99):0.0} ms")
            : Invariant($"  [{r.Store,-6} {r.Mode,-5} run {run}] connections opened: {r.Count / r.HandshakeSeconds:0} /s (p50 {P(r.Handshake, 50):0.0} / p95 {P(r.Handshake, 95):0.0} / p99 {P(r.Handshake, 99):0.0} ms, CPU {r.HandshakeCpuMs:0.00} ms each)")
                + Invariant($"; registrations over open connections: {r.Count / r.RequestSeconds:0} /s (p50 {P(r.Request, 50):0.0} / p95 {P(r.Request, 95):0.0} / p99 {P(r.Request, 99):0.0} ms, CPU {r.RequestCpuMs:0.00} ms each)");
        output.WriteLine(line + Invariant($"; CPU (client + emulator) {r.CpuMsPerRegistration:0.00} ms per registration; failures {r.Failures}; load {r.LoadBefore} → {r.LoadAfter}"));
    }

    public static void Summarize(TextWriter output, string store, string mode, List<RunResult> runs)
    {
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        if (mode == "new")
        {
            var best = runs.MaxBy(r => r.Rate)!;
            output.WriteLine(Invariant($"  => {store} / new connection per registration: best {best.Rate:0} /s (p99 {P(best.Total, 99):0.0} ms), median {Median(runs.Select(r => r.Rate)):0} /s (p99 {Median(runs.Select(r => P(r.Total, 99))):0.0} ms); handshake share of latency (median p50) {Median(runs.Select(r => P(r.Handshake, 50))):0.0} of {Median(runs.Select(r => P(r.Total, 50))):0.0} ms"));
        }
        else
        {
            output.WriteLine(Invariant($"  => {store} / split: connections (handshakes) best {runs.Max(r => r.Count / r.HandshakeSeconds):0} /s, median {Median(runs.Select(r => r.Count / r.HandshakeSeconds)):0} /s; registrations over open connections best {runs.Max(r => r.Count / r.RequestSeconds):0} /s, median {Median(runs.Select(r => r.Count / r.RequestSeconds)):0} /s (p99 median {Median(runs.Select(r => P(r.Request, 99))):0.0} ms)"));
        }
    }

    public static double P(double[] values, int percentile)
    {
        var sorted = values.Where(v => v > 0).Order().ToArray();
        if (sorted.Length == 0) return 0;
        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    public static string RuntimeInformationText() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription} on {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
