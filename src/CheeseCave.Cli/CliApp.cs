using System.Security.Cryptography;
using CheeseCave.Pki;

namespace CheeseCave.Cli;

/// <summary>Entry point logic, separated from Program so tests run the real command in-process with their own folder and environment.</summary>
internal static class CliApp
{
    private static readonly string[] Common = ["dir", "passphrase-file"];

    private static readonly CommandSpec[] Specs =
    [
        new("create_root_and_intermediate", "cheesecave create_root_and_intermediate [options]",
            "create a root CA and an intermediate CA (never overwrites an existing CA)", 0, 0,
            [.. Common, "preset", "key-type", "root-cn", "intermediate-cn", "root-days", "intermediate-days", "device-days"], [],
            """
              --preset recommended|certgen-compatible  recommended: ECDSA P-256, root 10 y, intermediate 5 y, devices 1 y (default);
                                                       certgen-compatible: RSA-4096 and 30 days, certGen.sh's extensions and names
              --key-type ecdsa-p256|ecdsa-p384|rsa-2048|rsa-3072|rsa-4096
              --root-cn NAME, --intermediate-cn NAME   subject names (a CN, or a DN such as "CN=Contoso Root, O=Contoso"); must differ
              --root-days N, --intermediate-days N     CA validity in days
              --device-days N                          default validity of later device certificates
            """),
        new("create_verification_certificate", "cheesecave create_verification_certificate <verification-code> [options]",
            "create the proof-of-possession certificate (CN = the code DPS generated)", 1, 1,
            [.. Common, "ca", "key-type", "days"], [],
            """
              --ca root|intermediate   the CA uploaded to DPS that is being verified (default root); it signs the certificate
              --key-type TYPE, --days N
            """),
        new("create_device_certificate", "cheesecave create_device_certificate <registration-id> [options]",
            "issue a device certificate signed by the root CA", 1, 1,
            [.. Common, "count", "key-type", "days"], ["force", "legacy-pfx"], DeviceHelp),
        new("create_device_certificate_from_intermediate", "cheesecave create_device_certificate_from_intermediate <registration-id> [options]",
            "issue a device certificate signed by the intermediate CA", 1, 1,
            [.. Common, "count", "key-type", "days"], ["force", "legacy-pfx"], DeviceHelp),
        new("create_edge_device_certificate", "cheesecave create_edge_device_certificate <device-id> [options]",
            "issue an IoT Edge device CA certificate (CN <device-id>.ca, CA:TRUE)", 1, 1,
            [.. Common, "ca", "key-type", "days"], ["force"],
            """
              --ca root|intermediate   signing CA (default: the intermediate in a certgen-compatible folder, as certGen does;
                                       the root in a recommended one, whose intermediate may sign devices only)
              --key-type TYPE, --days N
              --force                  replace the previous files of this edge device instead of archiving them
              Writes certs/<id>.ca.cert.pem, -chain, -full-chain, .cert.pfx and private/<id>.ca.key.pem, and certGen's
              certs/new-edge-device.* names.
            """),
        new("adopt_certgen", "cheesecave adopt_certgen [options]",
            "take over a certGen.sh folder (CA already in DPS): re-encrypt its keys and PFX files under your passphrase", 0, 0,
            [.. Common, "certgen-password-file"], [],
            """
              Reads certGen's keys and PFX files once with its password '1234', writes them encrypted under your passphrase,
              keeps the certificates byte for byte (DPS keeps trusting the CA), records the certgen-compatible profile in
              cheesecave.json, keeps certGen's public certificates in archive/certgen-<time>/ and removes its weak copies.
              All or nothing: an interrupted run is undone by the next one.
              --certgen-password-file PATH   certGen's password, if it was changed from 1234
            """),
        new("sign_csr", "cheesecave sign_csr <csr-file> [options]",
            "sign a device's PKCS#10 CSR (PEM or DER) so its key never leaves the device", 1, 1,
            [.. Common, "ca", "days", "registration-id"], ["force"],
            """
              --ca root|intermediate   signing CA (default: the intermediate when there is one)
              --registration-id ID     refuse the CSR unless its CN equals ID
              --days N, --force        validity; --force replaces existing <id> certificate files (by default they are archived)
            """),
        new("inspect", "cheesecave inspect <file> [options]",
            "decode a certificate, chain or PFX and check it for DPS readiness (exit 1 when it has problems)", 1, 1,
            [.. Common, "registration-id"], [],
            """
              --registration-id ID     also check that the device certificate's CN equals ID
              PFX passwords come from --passphrase-file, CHEESECAVE_PASSPHRASE or private/passphrase.txt.
            """),
        new("help", "cheesecave help [command]", "show help", 0, 1, [], [], string.Empty),
    ];

    private const string DeviceHelp =
        """
          --count N          issue N devices named <registration-id>1 .. <registration-id>N
          --key-type TYPE    ecdsa-p256 (default with the recommended preset), ecdsa-p384, rsa-2048, rsa-3072, rsa-4096
          --days N           validity in days (default: the folder's preset, 365 or 30)
          --force            replace the files of an existing device id (by default they are archived: a re-issue is a renewal)
          --legacy-pfx       3DES/SHA-1 PFX for old runtimes (Windows Server 2016, .NET Framework)
          Writes certs/<id>.cert.pem, certs/<id>-chain.cert.pem (leaf + intermediates: what the device sends),
          certs/<id>-full-chain.cert.pem, certs/<id>.cert.pfx (key + chain) and private/<id>.key.pem (encrypted),
          and for a single device also certGen's certs/new-device.* names. Re-issuing an existing id moves its previous
          files to archive/<UTC time>/ (listed in the output).
        """;

    private const string CommonHelp =
        """
          --dir PATH               the folder holding certs/ and private/ (default: the current folder)
          --passphrase-file PATH   passphrase for private keys and PFX files (else CHEESECAVE_PASSPHRASE, else the
                                   generated private/passphrase.txt)
        """;

    public static int Run(string[] args, TextWriter output, TextWriter error, string currentDirectory, Func<string, string?> environment, TimeProvider time)
    {
        try
        {
            if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
            {
                return Help(args.Length > 1 ? args[1] : null, output);
            }

            if (args.Skip(1).Any(a => a is "--help" or "-h"))
            {
                return Help(args[0], output);
            }

            var parsed = ParsedArguments.Parse(args, name => Specs.FirstOrDefault(s => s.Name == name));
            var workspace = new Workspace(parsed.Get("dir") is { } dir ? Path.GetFullPath(dir, currentDirectory) : currentDirectory);
            if (parsed.Command is not ("adopt_certgen" or "inspect" or "create_root_and_intermediate"))
            {
                // Before any passphrase lookup, so a certGen folder gets its own message rather than "no passphrase".
                CertGenFolder.RefuseUnadopted(workspace, "sign with its CA");
            }

            var commands = new Commands(output, environment, time);
            var devices = new DeviceCommands(output, environment, time);
            return parsed.Command switch
            {
                "create_root_and_intermediate" => commands.CreateRootAndIntermediate(parsed, workspace),
                "create_verification_certificate" => commands.CreateVerificationCertificate(parsed, workspace),
                "create_device_certificate" => devices.CreateDeviceCertificates(parsed, workspace, fromIntermediate: false),
                "create_device_certificate_from_intermediate" => devices.CreateDeviceCertificates(parsed, workspace, fromIntermediate: true),
                "create_edge_device_certificate" => devices.CreateEdgeDeviceCertificate(parsed, workspace),
                "adopt_certgen" => new AdoptCommand(output, environment, time).Run(parsed, workspace),
                "sign_csr" => commands.SignCsr(parsed, workspace),
                "inspect" => commands.Inspect(parsed, workspace),
                _ => Help(null, output),
            };
        }
        catch (CliException ex)
        {
            return Fail(error, ex.Message, ex.ExitCode);
        }
        catch (PkiException ex)
        {
            return Fail(error, ex.Message, ExitCodes.Failure);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            return Fail(error, ex.Message, ExitCodes.Failure);
        }
    }

    private static int Fail(TextWriter error, string message, int exitCode)
    {
        // One line, always: scripts grep for it, people read it.
        error.WriteLine("cheesecave: error: " + message.ReplaceLineEndings(" "));
        return exitCode;
    }

    private static int Help(string? command, TextWriter output)
    {
        if (command is not null)
        {
            var spec = Specs.FirstOrDefault(s => s.Name == command)
                ?? throw new CliException($"unknown command '{command}'. Run 'cheesecave help' to see the commands.", ExitCodes.Usage);
            output.WriteLine($"usage: {spec.Usage}");
            output.WriteLine();
            output.WriteLine(spec.Summary);
            if (spec.Help.Length > 0)
            {
                output.WriteLine();
                output.Write(spec.Help);
            }

            output.WriteLine();
            output.Write(CommonHelp);
            return ExitCodes.Success;
        }

        output.WriteLine("cheesecave: a safe drop-in for certGen.sh, for Azure IoT Hub DPS X.509 setups.");
        output.WriteLine();
        output.WriteLine("usage: cheesecave <command> [arguments] [options]");
        output.WriteLine();
        foreach (var spec in Specs.Where(s => s.Name != "help"))
        {
            output.WriteLine($"  {spec.Name,-45} {spec.Summary}");
        }

        output.WriteLine();
        output.WriteLine("Files use certGen.sh's names under certs/ and private/. Keys and PFX files are encrypted with a passphrase;");
        output.WriteLine("run 'cheesecave help <command>' for a command's options.");
        return ExitCodes.Success;
    }
}
