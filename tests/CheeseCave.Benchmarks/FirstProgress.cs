using System.Diagnostics;

namespace CheeseCave.Benchmarks;

/// <summary>Records when the first progress line arrived (the pages show it as soon as it does).</summary>
internal sealed class FirstProgress(Stopwatch watch) : IProgress<string>
{
    public double? Ms { get; private set; }

    public void Report(string value) => Ms ??= watch.Elapsed.TotalMilliseconds;
}
