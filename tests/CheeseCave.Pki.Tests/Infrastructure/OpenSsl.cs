using System.Diagnostics;
using System.Text;

namespace CheeseCave.Pki.Tests.Infrastructure;

/// <summary>The outcome of one openssl invocation.</summary>
public sealed record OpenSslResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>stdout and stderr together: several openssl commands (pkcs12 -info, verify) report on stderr.</summary>
    public string AllOutput => StandardOutput + "\n" + StandardError;
}

/// <summary>
/// Runs the system <c>openssl</c> binary as an independent second opinion on what the library writes. Arguments
/// are passed as a list (no shell), and relative file names resolve inside the given working folder.
/// </summary>
public static class OpenSsl
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs openssl and returns stdout; throws with the command line and stderr when it fails.</summary>
    public static string Run(string workingDirectory, params string[] arguments)
    {
        var result = TryRun(workingDirectory, arguments);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"openssl {string.Join(' ', arguments)} failed with exit code {result.ExitCode}:\n{result.StandardError}\n{result.StandardOutput}");
        }

        return result.StandardOutput;
    }

    /// <summary>Runs openssl and returns its exit code and output, for tests that expect it to fail.</summary>
    public static OpenSslResult TryRun(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl could not be started.");
        process.StandardInput.Close(); // never wait for a passphrase prompt
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"openssl {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s.");
        }

        process.WaitForExit();
        return new OpenSslResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>The certificate fields openssl prints in <c>x509 -text</c>.</summary>
    public static string Text(string workingDirectory, string certificateFile) =>
        Run(workingDirectory, "x509", "-in", certificateFile, "-noout", "-text");

    /// <summary>Public key of a certificate as PEM SubjectPublicKeyInfo, for comparing with a private key's.</summary>
    public static string CertificatePublicKey(string workingDirectory, string certificateFile) =>
        Run(workingDirectory, "x509", "-in", certificateFile, "-noout", "-pubkey");

    public static int CountCertificates(string pem) =>
        pem.Split("-----BEGIN CERTIFICATE-----").Length - 1;
}
