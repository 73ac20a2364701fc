using System.Diagnostics;

namespace CheeseCave.Portal.Tests.Automation;

/// <summary>The system openssl, to check certificates with a tool that is not ours.</summary>
internal static class Openssl
{
    /// <summary>A P-256 key and CSR made by openssl itself, as docs/automation-api.md tells a line to make them; returns the CSR PEM.</summary>
    public static async Task<string> CsrAsync(string cn)
    {
        var folder = Directory.CreateTempSubdirectory("cheesecave-csr-");
        try
        {
            var csr = Path.Combine(folder.FullName, "device.csr");
            var start = new ProcessStartInfo("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", Path.Combine(folder.FullName, "device.key"), "-subj", $"/CN={cn}", "-out", csr])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, output);
            return await File.ReadAllTextAsync(csr);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Runs <c>openssl verify -CAfile root -untrusted chain leaf</c>; returns its output and exit code.</summary>
    public static async Task<(int ExitCode, string Output)> VerifyAsync(string rootPem, string chainPem)
    {
        var folder = Directory.CreateTempSubdirectory("cheesecave-verify-");
        try
        {
            var root = Path.Combine(folder.FullName, "root.pem");
            var chain = Path.Combine(folder.FullName, "chain.pem");
            var leaf = Path.Combine(folder.FullName, "leaf.pem");
            await File.WriteAllTextAsync(root, rootPem);
            await File.WriteAllTextAsync(chain, chainPem);
            var end = chainPem.IndexOf("-----END CERTIFICATE-----", StringComparison.Ordinal) + "-----END CERTIFICATE-----".Length;
            await File.WriteAllTextAsync(leaf, chainPem[..end] + "\n");
            var start = new ProcessStartInfo("openssl", ["verify", "-CAfile", root, "-untrusted", chain, "-purpose", "sslclient", leaf])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
