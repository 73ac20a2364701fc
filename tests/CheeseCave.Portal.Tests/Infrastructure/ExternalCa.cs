using System.Diagnostics;
using System.Text;

namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>
/// A CA made outside the portal with the system <c>openssl</c>, in its own temp folder: what a user brings to the
/// import. Commands run with argument lists (no shell) except <see cref="RunScript"/>, which runs the portal's
/// generated command text literally with bash, as a user would paste it.
/// </summary>
internal sealed class ExternalCa : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public ExternalCa()
    {
        Folder = Path.Combine(Path.GetTempPath(), "cheesecave-external-ca-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        File.WriteAllText(Path.Combine(Folder, "ca.ext"), """
            [req]
            distinguished_name = dn
            [dn]
            [v3_ca]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid:always
            [v3_leaf]
            basicConstraints = CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = clientAuth
            [v3_no_certsign]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, digitalSignature
            """);
    }

    public string Folder { get; }

    public string PathOf(string file) => Path.Combine(Folder, file);

    public byte[] Bytes(string file) => File.ReadAllBytes(PathOf(file));

    public string Text(string file) => File.ReadAllText(PathOf(file));

    /// <summary>"ec" (P-256) or "rsa:2048" style key arguments for <c>-newkey</c>.</summary>
    private static string[] NewKey(string kind) => kind.StartsWith("rsa", StringComparison.Ordinal)
        ? ["-newkey", kind]
        : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

    /// <summary>A self-signed root: {name}.pem and {name}.key.pem (unencrypted PKCS#8).</summary>
    public void Root(string name, string key = "ec", string extensions = "v3_ca", int days = 365) =>
        Run(["req", "-x509", .. NewKey(key), "-nodes", "-keyout", $"{name}.key.pem", "-out", $"{name}.pem", "-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-subj", $"/CN={name}", "-config", "ca.ext", "-extensions", extensions]);

    /// <summary>A certificate signed by <paramref name="issuer"/>: {name}.pem and {name}.key.pem.</summary>
    public void Signed(string name, string issuer, string key = "ec", string extensions = "v3_ca", string? commonName = null)
    {
        Run(["req", "-new", .. NewKey(key), "-nodes", "-keyout", $"{name}.key.pem", "-out", $"{name}.csr.pem", "-subj", $"/CN={commonName ?? name}", "-config", "ca.ext"]);
        Run(["x509", "-req", "-in", $"{name}.csr.pem", "-CA", $"{issuer}.pem", "-CAkey", $"{issuer}.key.pem", "-CAcreateserial", "-days", "365", "-sha256",
            "-extfile", "ca.ext", "-extensions", extensions, "-out", $"{name}.pem"]);
    }

    /// <summary>A self-signed CA valid only between two dates (openssl ca can back-date; req and x509 cannot in 3.0).</summary>
    public void RootValidBetween(string name, string startDate, string endDate)
    {
        File.WriteAllText(PathOf($"{name}.cnf"), $"""
            [ca]
            default_ca = dated
            [dated]
            database = {name}.index
            new_certs_dir = .
            serial = {name}.serial
            default_md = sha256
            policy = any
            unique_subject = no
            [any]
            commonName = supplied
            [v3_ca]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            """);
        File.WriteAllText(PathOf($"{name}.index"), "");
        File.WriteAllText(PathOf($"{name}.serial"), "01\n");
        Run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", $"{name}.key.pem", "-out", $"{name}.csr.pem", "-subj", $"/CN={name}", "-config", "ca.ext"]);
        Run(["ca", "-batch", "-config", $"{name}.cnf", "-selfsign", "-keyfile", $"{name}.key.pem", "-in", $"{name}.csr.pem", "-out", $"{name}.pem",
            "-startdate", startDate, "-enddate", endDate, "-extensions", "v3_ca", "-notext"]);
    }

    /// <summary>The key as encrypted PKCS#8 (AES-256).</summary>
    public void EncryptKey(string name, string passphrase) =>
        Run(["pkcs8", "-topk8", "-in", $"{name}.key.pem", "-out", $"{name}.enc.key.pem", "-v2", "aes-256-cbc", "-passout", $"pass:{passphrase}"]);

    public void Pfx(string name, string password) =>
        Run(["pkcs12", "-export", "-in", $"{name}.pem", "-inkey", $"{name}.key.pem", "-out", $"{name}.pfx", "-passout", $"pass:{password}"]);

    public string Run(params string[] arguments) => Start("openssl", arguments);

    /// <summary>Runs a script's text with bash -e in the folder, exactly as given.</summary>
    public string RunScript(string script) => Start("bash", ["-e", "-c", script]);

    private string Start(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = Folder,
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

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} could not be started.");
        process.StandardInput.Close(); // never wait for a passphrase prompt
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish within {Timeout.TotalSeconds} s.");
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{stderr.Result}\n{stdout.Result}");
        }

        return stdout.Result;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
