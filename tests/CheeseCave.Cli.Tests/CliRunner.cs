using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace CheeseCave.Cli.Tests;

/// <summary>Runs the real command in-process against a temporary folder with its own environment variables.</summary>
internal sealed class CliRunner : IDisposable
{
    public CliRunner()
    {
        Directory = Path.Combine(Path.GetTempPath(), "cheesecave-cli-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public TimeProvider Time { get; set; } = TimeProvider.System;

    public string PathOf(string relative) => Path.Combine(Directory, relative);

    public string Passphrase => File.ReadAllText(PathOf("private/passphrase.txt")).Trim();

    public CliResult Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CliApp.Run(args, output, error, Directory, name => Environment.TryGetValue(name, out var v) ? v : null, Time);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>Every file under the folder with its content hash, to prove a failed command wrote nothing.</summary>
    public Dictionary<string, string> Snapshot() =>
        System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories)
            .ToDictionary(p => Path.GetRelativePath(Directory, p), p => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(p))));

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static FakeTimeProvider FakeTime() => new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    /// <summary>A clock that only moves when told, starting now (for folders whose certificates openssl made just now).</summary>
    public static FakeTimeProvider FakeTimeAtNow() => new(DateTimeOffset.UtcNow);
}

internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public CliResult ShouldSucceed()
    {
        Assert.True(ExitCode == 0, $"exit {ExitCode}: {Error}\n{Output}");
        Assert.Equal(string.Empty, Error);
        return this;
    }

    public CliResult ShouldFail(int exitCode, string containing)
    {
        Assert.Equal(exitCode, ExitCode);
        Assert.StartsWith("cheesecave: error: ", Error);
        Assert.Single(Error.TrimEnd().Split('\n')); // one clear line
        Assert.Contains(containing, Error, StringComparison.Ordinal);
        return this;
    }
}

/// <summary>The system openssl, as an independent check of what we write.</summary>
internal static class OpenSsl
{
    public static (int ExitCode, string Output) Run(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("openssl") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public static string Ok(string workingDirectory, params string[] args)
    {
        var (code, output) = Run(workingDirectory, args);
        Assert.True(code == 0, $"openssl {string.Join(' ', args)} failed ({code}): {output}");
        return output;
    }
}
