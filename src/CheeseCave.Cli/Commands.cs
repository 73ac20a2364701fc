using System.Globalization;
using System.Security.Cryptography;
using CheeseCave.Pki;

namespace CheeseCave.Cli;

/// <summary>The certGen.sh subcommands, done in-process and safely, plus CSR signing and inspection.</summary>
internal sealed class Commands(TextWriter output, Func<string, string?> environment, TimeProvider time)
{
    private const string VerificationName = "verification-code";
    private readonly CertificateAuthority _ca = new(time);

    public int CreateRootAndIntermediate(ParsedArguments args, Workspace ws)
    {
        CertGenFolder.RefuseUnadopted(ws, "create a new CA here");
        var existing = ws.ExistingCaFiles().ToList();
        if (existing.Count > 0)
        {
            throw new CliException($"a CA already exists here ({ws.Relative(existing[0])}); cheesecave never overwrites CA material, which may already be uploaded to DPS. "
                + $"To start over, archive it first: mkdir archive && mv certs private {Workspace.SettingsFileName} archive/");
        }

        var preset = args.Get("preset") is { } presetName ? IssuancePolicy.ParsePreset(presetName) : ProfilePreset.Recommended;
        var policy = IssuancePolicy.For(preset);
        var keyType = args.Get("key-type") is { } keyName ? KeyAlgorithms.Parse(keyName) : policy.KeyAlgorithm;
        var suffix = $"{time.GetUtcNow():yyyy-MM-dd} {Convert.ToHexString(RandomNumberGenerator.GetBytes(2))}";
        var rootCn = args.Get("root-cn") ?? (preset == ProfilePreset.CertGenCompatible ? "Azure IoT Hub CA Cert Test Only" : $"CheeseCave Root CA {suffix}");
        var intermediateCn = args.Get("intermediate-cn") ?? (preset == ProfilePreset.CertGenCompatible ? "Azure IoT Hub Intermediate Cert Test Only" : $"CheeseCave Intermediate CA {suffix}");
        var rootDays = args.GetInt("root-days", 1, 36500);
        var intermediateDays = args.GetInt("intermediate-days", 1, 36500);
        var deviceDays = args.GetInt("device-days", 1, 36500) ?? (int)policy.DeviceValidity.TotalDays;
        var passphrase = Passphrase.Resolve(args, ws, environment, mayGenerate: true)!;

        using var root = _ca.CreateRoot(new RootCaRequest(rootCn)
        {
            Preset = preset,
            KeyAlgorithm = keyType,
            Validity = rootDays is { } rd ? TimeSpan.FromDays(rd) : null,
        });
        using var rootCredential = CaCredential.Create(root.Certificate, root.Key!);
        using var intermediate = _ca.CreateIntermediate(new IntermediateCaRequest(intermediateCn)
        {
            Preset = preset,
            KeyAlgorithm = keyType,
            Validity = intermediateDays is { } id ? TimeSpan.FromDays(id) : null,
        }, rootCredential);

        var tx = new FileTransaction(ws.Root);
        tx.Add(ws.RootCertPath, CertificateExport.ToPem(root.Certificate));
        tx.Add(ws.RootKeyPath, root.Key!.ExportEncryptedPem(passphrase.Value), secret: true);
        tx.Add(ws.IntermediateCertPath, CertificateExport.ToPem(intermediate.Certificate));
        tx.Add(ws.IntermediateKeyPath, intermediate.Key!.ExportEncryptedPem(passphrase.Value), secret: true);
        tx.Add(ws.ChainPath, CertificateExport.ToPem(intermediate.FullChain));
        tx.Add(ws.SettingsPath, Workspace.SerializeSettings(new WorkspaceSettings(
            preset == ProfilePreset.CertGenCompatible ? "certgen-compatible" : "recommended",
            keyType.ToName(), deviceDays, (int)policy.VerificationValidity.TotalDays)));
        if (passphrase.Generated)
        {
            tx.Add(ws.GeneratedPassphrasePath, passphrase.Value + "\n", secret: true);
        }

        tx.Commit();

        output.WriteLine($"Created root CA '{rootCn}' and intermediate CA '{intermediateCn}' ({keyType.ToDisplay()}, {(preset == ProfilePreset.CertGenCompatible ? "certGen-compatible" : "recommended")} profile).");
        WriteValidity("root", root);
        WriteValidity("intermediate", intermediate);
        WriteFiles(ws, tx);
        WriteWarnings(intermediate.Warnings);
        if (passphrase.Generated)
        {
            output.WriteLine($"A passphrase was generated for the private keys and PFX files and stored in {passphrase.Source} (readable only by you). Keep it with the keys, or set {Passphrase.EnvironmentVariable} next time to use your own.");
        }
        else
        {
            output.WriteLine($"Private keys are encrypted with the passphrase from {passphrase.Source}.");
        }

        output.WriteLine($"Next: upload {ws.Relative(ws.RootCertPath)} to DPS (Certificates > Add), generate a verification code, then run: cheesecave create_verification_certificate <code>");
        return ExitCodes.Success;
    }

    public int CreateVerificationCertificate(ParsedArguments args, Workspace ws)
    {
        var useIntermediate = ParseCaChoice(args, defaultIntermediate: false);
        var passphrase = Passphrase.Require(args, ws, environment);
        var settings = ws.ReadSettings();
        using var ca = ws.LoadCa(useIntermediate, passphrase.Value, time.GetUtcNow());
        var preset = PresetOf(settings);
        using var issued = _ca.CreateVerificationCertificate(new VerificationCertificateRequest(args.Positional[0])
        {
            Preset = preset,
            KeyAlgorithm = KeyTypeOf(args, settings),
            Validity = args.GetInt("days", 1, 3650) is { } d ? TimeSpan.FromDays(d) : null,
            DefaultValidity = settings is null ? null : TimeSpan.FromDays(settings.VerificationDays),
        }, ca);

        // A verification certificate is single-use (DPS checks it once), so certGen's fixed names are simply replaced.
        using var encryption = new BatchEncryption(passphrase.Value, passphrase.MachineGenerated);
        var tx = new FileTransaction(ws.Root);
        tx.Add(ws.Cert(VerificationName), issued.CertificatePem, ifExists: IfExists.Replace);
        tx.Add(ws.Key(VerificationName), encryption.EncryptPrivateKeyPem(issued.Key!), secret: true, ifExists: IfExists.Replace);
        tx.Add(ws.Pfx(VerificationName), encryption.ExportPfx(issued), secret: true, ifExists: IfExists.Replace);
        tx.Commit();

        var signer = SubjectNames.GetCommonName(ca.Certificate);
        output.WriteLine($"Created the verification certificate for code '{SubjectNames.GetCommonName(issued.Certificate)}', signed by the {(useIntermediate ? "intermediate" : "root")} CA '{signer}'.");
        WriteFiles(ws, tx);
        output.WriteLine($"Upload {ws.Relative(ws.Cert(VerificationName))} to the DPS certificate that holds '{signer}' and click Verify. "
            + (useIntermediate ? string.Empty : "If you uploaded the intermediate instead, run this again with --ca intermediate (a root-signed proof fails with IH400053)."));
        return ExitCodes.Success;
    }

    public int SignCsr(ParsedArguments args, Workspace ws)
    {
        var path = Path.GetFullPath(args.Positional[0], ws.Root);
        if (!File.Exists(path))
        {
            throw new CliException($"the CSR file {path} does not exist.");
        }

        var useIntermediate = ParseCaChoice(args, defaultIntermediate: File.Exists(ws.IntermediateCertPath));
        var passphrase = Passphrase.Require(args, ws, environment);
        var settings = ws.ReadSettings();
        using var ca = ws.LoadCa(useIntermediate, passphrase.Value, time.GetUtcNow());
        using var issued = _ca.SignCsr(new CsrSigningRequest(File.ReadAllBytes(path))
        {
            Preset = PresetOf(settings),
            Validity = args.GetInt("days", 1, 36500) is { } d ? TimeSpan.FromDays(d) : null,
            DefaultValidity = settings is null ? null : TimeSpan.FromDays(settings.DeviceDays),
            ExpectedRegistrationId = args.Get("registration-id"),
        }, ca);

        var id = SubjectNames.GetCommonName(issued.Certificate)!;
        // Signing a new CSR for a known id is a renewal, as for generated keys: the previous files are archived.
        var tx = new FileTransaction(ws.Root, ws.ArchiveDirectory(time.GetUtcNow()));
        var ifExists = args.Has("force") ? IfExists.Replace : IfExists.Archive;
        tx.Add(ws.Cert(id), issued.CertificatePem, ifExists: ifExists);
        tx.Add(ws.Cert(id + "-chain"), issued.DeviceChainPem, ifExists: ifExists);
        tx.Add(ws.Cert(id + "-full-chain"), issued.FullChainPem, ifExists: ifExists);
        tx.Commit();
        output.WriteLine($"Signed the CSR for '{id}' ({CertificateDescription.DescribeKey(issued.Certificate.PublicKey)}) with '{SubjectNames.GetCommonName(ca.Certificate)}'; the private key stayed on the device.");
        WriteFiles(ws, tx);
        foreach (var (from, to) in tx.Archived)
        {
            output.WriteLine($"  archived the previous {ws.Relative(from)} as {ws.Relative(to)}");
        }
        WriteWarnings(issued.Warnings);
        return ExitCodes.Success;
    }

    public int Inspect(ParsedArguments args, Workspace ws)
    {
        var path = Path.GetFullPath(args.Positional[0], ws.Root);
        if (!File.Exists(path))
        {
            throw new CliException($"the file {path} does not exist.");
        }

        var bytes = File.ReadAllBytes(path);
        var password = Passphrase.Resolve(args, ws, environment, mayGenerate: false)?.Value;
        string? openedWithCertGenPassword = null;
        ReadCertificates read;
        try
        {
            read = CertificateReader.Read(bytes, password);
        }
        catch (PkiException ex) when (ex.Code == PkiErrorCode.WrongPassphrase && password != CertGenFolder.DefaultPassword)
        {
            // certGen.sh writes every PFX with the password 1234: open it with that rather than call the user's passphrase wrong.
            try
            {
                read = CertificateReader.Read(bytes, CertGenFolder.DefaultPassword);
            }
            catch (PkiException)
            {
                throw new CliException(ex.Message);
            }

            openedWithCertGenPassword = CertGenFolder.IsUnadopted(ws)
                ? $"note: opened with certGen.sh's password '{CertGenFolder.DefaultPassword}', which anyone can guess; run 'cheesecave adopt_certgen' in {ws.Root} to re-encrypt this folder under your own passphrase."
                : $"note: opened with certGen.sh's password '{CertGenFolder.DefaultPassword}', which anyone can guess; re-issue it with cheesecave, or adopt its certGen folder with 'cheesecave adopt_certgen'.";
        }

        using var _ = read;
        output.WriteLine($"{ws.Relative(path)}: {read.Certificates.Count} certificate(s), {read.Format} format{(read.Key is null ? string.Empty : $", with its private key ({read.Key.Algorithm.ToDisplay()})")}.");
        if (openedWithCertGenPassword is not null)
        {
            output.WriteLine(openedWithCertGenPassword);
        }
        for (var i = 0; i < read.Certificates.Count; i++)
        {
            output.WriteLine();
            output.WriteLine($"[{i + 1}]");
            output.Write(CertificateDescription.Of(read.Certificates[i]).ToText(time));
        }

        var report = CertificateLinter.Lint(read.Certificates, time, args.Get("registration-id"));
        output.WriteLine();
        output.WriteLine(report.IsCaBundle ? "DPS readiness (CA certificate):" : "DPS readiness (device certificate):");
        if (report.Findings.Count == 0)
        {
            output.WriteLine("  No problems found.");
        }

        foreach (var finding in report.Findings.OrderByDescending(f => f.Severity))
        {
            output.WriteLine($"  {finding.Severity.ToString().ToUpperInvariant(),-7} {finding.Message}");
        }

        var errors = report.Findings.Count(f => f.Severity == FindingSeverity.Error);
        output.WriteLine(errors == 0 ? "Result: ready." : $"Result: {errors} problem(s) to fix before DPS will accept this.");
        return errors == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    internal static bool ParseCaChoice(ParsedArguments args, bool defaultIntermediate) => args.Get("ca")?.ToLowerInvariant() switch
    {
        null => defaultIntermediate,
        "root" => false,
        "intermediate" => true,
        var other => throw new CliException($"--ca must be 'root' or 'intermediate' (got '{other}').", ExitCodes.Usage),
    };

    internal static ProfilePreset PresetOf(WorkspaceSettings? settings) =>
        settings is null ? ProfilePreset.Recommended : IssuancePolicy.ParsePreset(settings.Preset);

    internal static KeyAlgorithm? KeyTypeOf(ParsedArguments args, WorkspaceSettings? settings) =>
        args.Get("key-type") is { } name ? KeyAlgorithms.Parse(name) : settings is null ? null : KeyAlgorithms.Parse(settings.KeyType);

    private void WriteValidity(string what, IssuedCertificate issued) =>
        output.WriteLine($"  {what} valid until {issued.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd} UTC, SHA-1 thumbprint {issued.Certificate.Thumbprint}");

    internal void WriteFiles(Workspace ws, FileTransaction tx)
    {
        foreach (var path in tx.Paths)
        {
            output.WriteLine($"  wrote {ws.Relative(path)}");
        }
    }

    internal void WriteWarnings(IEnumerable<string> warnings)
    {
        foreach (var warning in warnings)
        {
            output.WriteLine($"warning: {warning}");
        }
    }
}
