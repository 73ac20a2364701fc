using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;

namespace CheeseCave.Cli;

/// <summary>
/// adopt_certgen: takes over a certGen.sh folder whose CA is already uploaded and verified in DPS. Its keys and PFX
/// files are read once with certGen's password and re-encrypted under the user's passphrase; the certificates stay
/// byte for byte the same, so DPS keeps trusting them. All-or-nothing: the new certs/ and private/ are staged in
/// .cheesecave-adopt/, swapped in by directory renames, and cheesecave.json (written last) marks the end; an
/// interrupted run is undone by the next one before it starts again.
/// </summary>
internal sealed class AdoptCommand(TextWriter output, Func<string, string?> environment, TimeProvider time)
{
    private const string JournalName = "archive-folder";
    private static readonly string[] Folders = ["certs", "private"];

    public int Run(ParsedArguments args, Workspace ws)
    {
        var staging = CertGenFolder.StagingPath(ws);
        if (Directory.Exists(staging))
        {
            output.WriteLine(Recover(ws, staging));
        }

        if (File.Exists(ws.SettingsPath))
        {
            throw new CliException($"{ws.Root} is already a cheesecave folder ({Workspace.SettingsFileName} exists); there is nothing to adopt.");
        }

        if (!File.Exists(ws.RootCertPath) || !File.Exists(ws.RootKeyPath))
        {
            throw new CliException($"{ws.Root} is not a certGen.sh folder: it has no certs/{Workspace.RootName}.cert.pem with private/{Workspace.RootName}.key.pem. Run adopt_certgen in the folder where ./certGen.sh create_root_and_intermediate ran, or pass --dir.");
        }

        var archive = Path.Combine(ws.Root, "archive", "certgen-" + time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        if (Path.Exists(archive))
        {
            throw new CliException($"{ws.Relative(archive)} already exists; nothing was changed. Run the command again in a second.");
        }

        var certGenPassword = ReadCertGenPassword(args, ws);
        var passphrase = Passphrase.Resolve(args, ws, environment, mayGenerate: true)!;

        // Read and check everything before writing anything.
        var root = ReadCertificate(ws, ws.RootCertPath);
        using var rootKey = ReadMatchingKey(ws, ws.RootKeyPath, root, certGenPassword);
        var intermediate = File.Exists(ws.IntermediateCertPath) ? ReadCertificate(ws, ws.IntermediateCertPath) : null;
        using var intermediateKey = intermediate is null ? null : ReadMatchingKey(ws, ws.IntermediateKeyPath, intermediate, certGenPassword);
        var cas = intermediate is null ? new[] { root } : [intermediate, root];

        using var encryption = new BatchEncryption(passphrase.Value, passphrase.MachineGenerated);
        var staged = new List<(string Relative, byte[] Content, bool Secret)>();
        var reencrypted = new List<string>();
        foreach (var path in Directory.EnumerateFiles(ws.PrivateDir).Order(StringComparer.Ordinal))
        {
            var relative = ws.Relative(path);
            if (path.EndsWith(".key.pem", StringComparison.Ordinal))
            {
                // CA keys open with certGen's password; device and verification keys are unencrypted, so it goes unused.
                using var key = CertGenFolder.ReadKey(path, certGenPassword, relative);
                staged.Add((relative, System.Text.Encoding.ASCII.GetBytes(encryption.EncryptPrivateKeyPem(key)), true));
                reencrypted.Add(relative);
            }
            else
            {
                staged.Add((relative, File.ReadAllBytes(path), true));
            }
        }

        foreach (var path in Directory.EnumerateFiles(ws.CertsDir).Order(StringComparer.Ordinal))
        {
            var relative = ws.Relative(path);
            if (path.EndsWith(".pfx", StringComparison.Ordinal))
            {
                staged.Add((relative, ReencryptPfx(path, relative, certGenPassword, cas, encryption), true));
                reencrypted.Add(relative);
            }
            else
            {
                staged.Add((relative, File.ReadAllBytes(path), false));
            }
        }

        if (passphrase.Generated)
        {
            staged.Add((ws.Relative(ws.GeneratedPassphrasePath), System.Text.Encoding.ASCII.GetBytes(passphrase.Value + "\n"), true));
        }

        var keyType = rootKey.Algorithm.ToName();
        var settings = Workspace.SerializeSettings(new WorkspaceSettings("certgen-compatible", keyType, 30, 30, "certGen.sh"));
        Stage(ws, staging, archive, staged, settings);
        Swap(ws, staging, archive);

        output.WriteLine($"Adopted the certGen.sh folder {ws.Root}: root '{SubjectNames.GetCommonName(root)}'{(intermediate is null ? string.Empty : $" and intermediate '{SubjectNames.GetCommonName(intermediate)}'")} are unchanged, so DPS keeps trusting them (SHA-1 thumbprint {root.Thumbprint}).");
        foreach (var file in reencrypted)
        {
            output.WriteLine($"  re-encrypted {file}");
        }

        output.WriteLine($"  wrote {Workspace.SettingsFileName} (certgen-compatible profile: {KeyAlgorithms.Parse(keyType).ToDisplay()}, 30-day devices)");
        output.WriteLine($"certGen's public certificates were kept in {ws.Relative(archive)}/; its copies of keys and PFX files under password '{CertGenFolder.DefaultPassword}' were removed.");
        output.WriteLine(passphrase.Generated
            ? $"Keys and PFX files are now encrypted with a generated passphrase stored in {passphrase.Source} (readable only by you); the PFX password in your device code is that passphrase, no longer '{CertGenFolder.DefaultPassword}'."
            : $"Keys and PFX files are now encrypted with the passphrase from {passphrase.Source}; the PFX password in your device code is that passphrase, no longer '{CertGenFolder.DefaultPassword}'.");
        foreach (var ca in cas.Where(c => c.NotAfter.ToUniversalTime() < time.GetUtcNow().UtcDateTime.AddDays(7)))
        {
            output.WriteLine($"warning: '{SubjectNames.GetCommonName(ca)}' {(ca.NotAfter.ToUniversalTime() < time.GetUtcNow().UtcDateTime ? "expired" : "expires")} on {ca.NotAfter.ToUniversalTime():yyyy-MM-dd} UTC (certGen makes 30-day CAs); plan a new CA with 'cheesecave create_root_and_intermediate' in a new folder.");
        }

        return ExitCodes.Success;
    }

    /// <summary>Undoes an interrupted adoption (or finishes one that got past its last step), so a new one starts clean.</summary>
    internal static string Recover(Workspace ws, string staging)
    {
        var journal = Path.Combine(staging, JournalName);
        var archive = File.Exists(journal) ? Path.Combine(ws.Root, File.ReadAllText(journal).Trim()) : null;
        if (File.Exists(ws.SettingsPath))
        {
            if (archive is not null) RemoveWeakCopies(archive);
            Directory.Delete(staging, recursive: true);
            return "Finished an earlier adopt_certgen that was interrupted after its last step.";
        }

        foreach (var folder in Folders)
        {
            var original = Path.Combine(staging, "original", folder);
            var archived = archive is null ? null : Path.Combine(archive, folder);
            var source = Directory.Exists(original) ? original : archived is not null && Directory.Exists(archived) ? archived : null;
            if (source is null) continue;
            var current = Path.Combine(ws.Root, folder);
            if (Directory.Exists(current)) Directory.Delete(current, recursive: true); // the re-encrypted copy
            Directory.Move(source, current);
        }

        if (archive is not null && Directory.Exists(archive) && !Directory.EnumerateFileSystemEntries(archive).Any())
        {
            Directory.Delete(archive);
        }

        Directory.Delete(staging, recursive: true);
        return "An earlier adopt_certgen was interrupted; certGen's files were put back and the folder is adopted again now.";
    }

    private static void Stage(Workspace ws, string staging, string archive, List<(string Relative, byte[] Content, bool Secret)> files, string settings)
    {
        try
        {
            FileTransaction.CreateDirectory(staging, secret: true);
            WriteFile(Path.Combine(staging, JournalName), System.Text.Encoding.UTF8.GetBytes(ws.Relative(archive)), secret: false);
            foreach (var folder in Folders)
            {
                FileTransaction.CreateDirectory(Path.Combine(staging, "new", folder), secret: folder == "private");
            }

            foreach (var (relative, content, secret) in files)
            {
                WriteFile(Path.Combine(staging, "new", relative), content, secret);
            }

            WriteFile(Path.Combine(staging, "new", Workspace.SettingsFileName), System.Text.Encoding.UTF8.GetBytes(settings), secret: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Directory.Delete(staging, recursive: true);
            throw new CliException($"could not prepare the adopted files ({ex.Message}); nothing was changed.");
        }
    }

    private static void Swap(Workspace ws, string staging, string archive)
    {
        try
        {
            foreach (var folder in Folders)
            {
                FileTransaction.CreateDirectory(Path.Combine(staging, "original"), secret: true);
                Directory.Move(Path.Combine(ws.Root, folder), Path.Combine(staging, "original", folder));
            }

            foreach (var folder in Folders)
            {
                Directory.Move(Path.Combine(staging, "new", folder), Path.Combine(ws.Root, folder));
            }

            FileTransaction.CreateDirectory(Path.GetDirectoryName(archive)!, secret: false);
            Directory.Move(Path.Combine(staging, "original"), archive);
            File.Move(Path.Combine(staging, "new", Workspace.SettingsFileName), ws.SettingsPath); // the commit point
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Recover(ws, staging);
            throw new CliException($"could not swap in the adopted files ({ex.Message}); certGen's files were put back and nothing was changed.");
        }

        RemoveWeakCopies(archive);
        Directory.Delete(staging, recursive: true);
    }

    /// <summary>certGen's keys and PFX files open with '1234' (device keys with nothing at all): once adopted, they go.</summary>
    private static void RemoveWeakCopies(string archive)
    {
        var keys = Path.Combine(archive, "private");
        if (Directory.Exists(keys)) Directory.Delete(keys, recursive: true);
        var certs = Path.Combine(archive, "certs");
        if (!Directory.Exists(certs)) return;
        foreach (var pfx in Directory.EnumerateFiles(certs, "*.pfx"))
        {
            File.Delete(pfx);
        }
    }

    private static void WriteFile(string path, byte[] content, bool secret)
    {
        var temp = FileTransaction.WriteTemporary(path, content, secret, flushToDisk: true);
        File.Move(temp, path);
    }

    private static string ReadCertGenPassword(ParsedArguments args, Workspace ws)
    {
        if (args.Get("certgen-password-file") is not { } file) return CertGenFolder.DefaultPassword;
        var path = Path.GetFullPath(file, ws.Root);
        if (!File.Exists(path))
        {
            throw new CliException($"the certGen password file {path} does not exist.");
        }

        return File.ReadAllText(path).Split('\n')[0].TrimEnd('\r');
    }

    private static X509Certificate2 ReadCertificate(Workspace ws, string path)
    {
        try
        {
            using var read = CertificateReader.Read(File.ReadAllBytes(path));
            return read.Certificates[0];
        }
        catch (PkiException ex)
        {
            throw new CliException($"{ws.Relative(path)} is not a readable certificate ({ex.Message}); nothing was changed.");
        }
    }

    private static PrivateKey ReadMatchingKey(Workspace ws, string path, X509Certificate2 certificate, string password)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"{ws.Relative(path)} is missing, so the CA in {ws.Relative(Path.ChangeExtension(path, null))} cannot sign; nothing was changed.");
        }

        var key = CertGenFolder.ReadKey(path, password, ws.Relative(path));
        if (!key.Matches(certificate))
        {
            key.Dispose();
            throw new CliException($"{ws.Relative(path)} does not belong to the certificate '{certificate.Subject}'; nothing was changed.");
        }

        return key;
    }

    private static byte[] ReencryptPfx(string path, string relative, string password, X509Certificate2[] cas, BatchEncryption encryption)
    {
        ReadCertificates read;
        try
        {
            read = CertificateReader.Read(File.ReadAllBytes(path), password);
        }
        catch (PkiException ex) when (ex.Code == PkiErrorCode.WrongPassphrase)
        {
            throw CertGenFolder.WrongPassword(relative);
        }

        using (read)
        {
            var leaf = read.Certificates[0];
            if (read.Key is null)
            {
                throw new CliException($"{relative} holds no private key, so it cannot be re-encrypted; remove it or put it back as certGen wrote it. Nothing was changed.");
            }

            // certGen's PFX holds the leaf alone; the adopted one carries the chain above it, as cheesecave's do.
            var chain = new List<X509Certificate2>();
            var current = leaf;
            foreach (var ca in cas)
            {
                if (!SignatureVerifier.IsSignedBy(current, ca) || SignatureVerifier.IsSelfSigned(current)) continue;
                chain.Add(ca);
                current = ca;
            }

            return encryption.ExportPfx(leaf, read.Key, chain);
        }
    }
}
