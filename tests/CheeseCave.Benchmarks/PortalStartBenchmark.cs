using System.Diagnostics;
using System.Text.RegularExpressions;
using static CheeseCave.Benchmarks.BenchmarkFigures;

namespace CheeseCave.Benchmarks;

/// <summary>The portal benchmark's part (a): the real portal process, from start to its first page (see <see cref="PortalBenchmark"/>).</summary>
internal static partial class PortalStartBenchmark
{
    private const double StartTargetSeconds = 5;

    public static async Task MeasureAsync(string dll, int starts, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"## Portal start to first page ({dll})");
        output.WriteLine(Reference());

        // One untimed start first: the first run after a build also reads the files from disk.
        var warmup = Directory.CreateTempSubdirectory("cheesecave-bench-start-").FullName;
        _ = await StartOnceAsync(dll, warmup);
        Directory.Delete(warmup, recursive: true);

        // Each round: a first start on a fresh data folder (database created, keys generated), then a restart on it.
        var runs = new List<(double Listening, double FirstPage)>();
        var restarts = new List<double>();
        IReadOnlyList<string> timeline = [];
        for (var i = 1; i <= starts; i++)
        {
            var data = Directory.CreateTempSubdirectory("cheesecave-bench-start-").FullName;
            try
            {
                var run = await StartOnceAsync(dll, data);
                runs.Add((run.Listening, run.FirstPage));
                timeline = run.Timeline;
                var restart = await StartOnceAsync(dll, data);
                restarts.Add(restart.FirstPage);
                output.WriteLine(Invariant($"start {i}: listening after {run.Listening:0} ms, GET / answered 200 after {run.FirstPage:0} ms; restarted on the same data: 200 after {restart.FirstPage:0} ms"));
            }
            finally
            {
                Directory.Delete(data, recursive: true);
            }
        }

        // Where the time goes: when the portal's own log lines arrived in the last start.
        output.WriteLine("last start, log lines as they arrived (ms since the process started):");
        foreach (var line in timeline)
        {
            output.WriteLine("  " + line);
        }

        var firstPage = runs.Select(r => r.FirstPage).Order().ToArray();
        var median = Percentile(firstPage, 50);
        output.WriteLine(Invariant($"start to first page over {starts} starts on a fresh data folder: median {median:0} ms, max {firstPage[^1]:0} ms (listening: median {Percentile([.. runs.Select(r => r.Listening).Order()], 50):0} ms); target {StartTargetSeconds:0} s: {(firstPage[^1] <= StartTargetSeconds * 1000 ? "met" : "MISSED")}"));
        var again = restarts.Order().ToArray();
        output.WriteLine(Invariant($"restart on existing data: median {Percentile(again, 50):0} ms, max {again[^1]:0} ms; target {StartTargetSeconds:0} s: {(again[^1] <= StartTargetSeconds * 1000 ? "met" : "MISSED")}"));
        output.WriteLine(Reference());
    }

    /// <summary>Starts the portal process, times "Now listening" and the first 200 for GET /, then ends it.</summary>
    private static async Task<(double Listening, double FirstPage, IReadOnlyList<string> Timeline)> StartOnceAsync(string dll, string data)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     dll, "--urls", "http://127.0.0.1:0", $"--CheeseCave:DataDirectory={data}",
                     "--CheeseCave:Emulator:HttpsPort=0", "--CheeseCave:Emulator:MqttPort=0",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var listening = new TaskCompletionSource<(Uri Address, double Ms)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new List<string>();
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }

            lock (log)
            {
                var text = SetupToken().Replace(line.Data, "/setup/<one-time token>"); // a throwaway portal's, but a token all the same
                log.Add(Invariant($"{watch.Elapsed.TotalMilliseconds,6:0} {(text.Length > 110 ? text[..110] + "…" : text)}"));
            }

            if (ListeningLine().Match(line.Data) is { Success: true } match)
            {
                listening.TrySetResult((new Uri(match.Groups[1].Value.TrimEnd('/') + "/"), watch.Elapsed.TotalMilliseconds));
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                lock (log)
                {
                    log.Add(line.Data);
                }
            }
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("the portal exited before listening"));
        process.EnableRaisingEvents = true;

        try
        {
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var (address, listeningMs) = await listening.Task.WaitAsync(timeout.Token);

            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            while (true)
            {
                try
                {
                    using var response = await client.GetAsync(address, timeout.Token); // anonymous: redirected to the sign-in page
                    if ((int)response.StatusCode == 200)
                    {
                        var firstPage = watch.Elapsed.TotalMilliseconds;
                        lock (log)
                        {
                            return (listeningMs, firstPage, [.. log]);
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    // Listening but not answering yet: ask again.
                }

                await Task.Delay(10, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
            string text;
            lock (log)
            {
                text = string.Join(Environment.NewLine, log.TakeLast(30));
            }

            throw new InvalidOperationException($"the portal did not serve its first page: {ex.Message}{Environment.NewLine}{text}", ex);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }
    }

    [GeneratedRegex(@"/setup/\S+")]
    private static partial Regex SetupToken();

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
