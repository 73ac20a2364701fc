using System.Globalization;
using System.Security.Cryptography;
using CheeseCave.Pki;

namespace CheeseCave.Cli;

/// <summary>The certGen.sh subcommands, done in-process and safely, plus CSR signing and inspection.</summary>
internal sealed class Commands(TextWriter output, Func<string, string?> environment, TimeProvider time)
{
    private const string DeviceAlias = "new-device";
    private const string VerificationName = "verification-code";
    private readonly CertificateAuthority _ca = new(time);

    public int CreateRootAndIntermediate(ParsedArguments args, Workspace ws)
    {
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

        var tx = new FileTransaction();
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
            Validity = args.GetInt("days", 1, 3650) is { } d ? TimeSpan.FromDays(d) : settings is null ? null : TimeSpan.FromDays(settings.VerificationDays),
        }, ca);

        var tx = new FileTransaction();
        tx.Add(ws.Cert(VerificationName), CertificateExport.ToPem(issued.Certificate), mayReplace: true);
        tx.Add(ws.Key(VerificationName), issued.Key!.ExportEncryptedPem(passphrase.Value), secret: true, mayReplace: true);
        tx.Add(ws.Pfx(VerificationName), CertificateExport.ToPfx(issued, passphrase.Value), secret: true, mayReplace: true);
        tx.Commit();

        var signer = SubjectNames.GetCommonName(ca.Certificate);
        output.WriteLine($"Created the verification certificate for code '{SubjectNames.GetCommonName(issued.Certificate)}', signed by the {(useIntermediate ? "intermediate" : "root")} CA '{signer}'.");
        WriteFiles(ws, tx);
        output.WriteLine($"Upload {ws.Relative(ws.Cert(VerificationName))} to the DPS certificate that holds '{signer}' and click Verify. "
            + (useIntermediate ? string.Empty : "If you uploaded the intermediate instead, run this again with --ca intermediate (a root-signed proof fails with IH400053)."));
        return ExitCodes.Success;
    }

    public int CreateDeviceCertificates(ParsedArguments args, Workspace ws, bool fromIntermediate)
    {
        var id = args.Positional[0];
        var count = args.GetInt("count", 1, 100_000);
        var ids = count is null ? [id] : Enumerable.Range(1, count.Value).Select(i => id + i.ToString(CultureInfo.InvariantCulture)).ToList();
        foreach (var candidate in ids)
        {
            var check = RegistrationIds.Check(candidate);
            if (!check.IsValid)
            {
                throw new CliException(string.Join(" ", check.Errors));
            }
        }

        var passphrase = Passphrase.Require(args, ws, environment);
        var settings = ws.ReadSettings();
        using var ca = ws.LoadCa(fromIntermediate, passphrase.Value, time.GetUtcNow());
        var force = args.Has("force");
        var encryption = args.Has("legacy-pfx") ? PfxEncryption.LegacyCompatible : PfxEncryption.Modern;
        var request = new DeviceCertificateRequest(id)
        {
            Preset = PresetOf(settings),
            KeyAlgorithm = KeyTypeOf(args, settings),
            Validity = args.GetInt("days", 1, 36500) is { } d ? TimeSpan.FromDays(d) : settings is null ? null : TimeSpan.FromDays(settings.DeviceDays),
        };

        var tx = new FileTransaction();
        var bundles = new (IssuedCertificate Issued, string Key, byte[] Pfx)[ids.Count];
        var warnings = new List<string>();
        try
        {
            // Key encryption (PBKDF2) dominates a batch, so devices are prepared on every core; files are still
            // written together, and only if every device succeeded.
            Parallel.For(0, ids.Count, i =>
            {
                var issued = _ca.IssueDeviceCertificate(request with { RegistrationId = ids[i] }, ca);
                bundles[i] = (issued, issued.Key!.ExportEncryptedPem(passphrase.Value), CertificateExport.ToPfx(issued, passphrase.Value, encryption));
            });

            for (var i = 0; i < ids.Count; i++)
            {
                var (issued, key, pfx) = bundles[i];
                warnings.AddRange(issued.Warnings);
                AddDeviceFiles(tx, ws, ids[i], issued, key, pfx, force);
                if (ids.Count == 1 && ids[i] != DeviceAlias)
                {
                    // certGen.sh's fixed names, replaced on every run, so the Learn module's steps work unchanged.
                    AddDeviceFiles(tx, ws, DeviceAlias, issued, key, pfx, mayReplace: true);
                }
            }

            tx.Commit();
            var signer = SubjectNames.GetCommonName(ca.Certificate);
            var first = bundles[0].Issued;
            var until = first.Certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            output.WriteLine(ids.Count == 1
                ? $"Issued device certificate '{ids[0]}' ({(request.KeyAlgorithm ?? IssuancePolicy.For(request.Preset).KeyAlgorithm).ToDisplay()}, valid until {until} UTC), signed by '{signer}'."
                : $"Issued {ids.Count} device certificates '{ids[0]}' to '{ids[^1]}' (valid until {until} UTC), signed by '{signer}'.");
            if (ids.Count <= 3)
            {
                WriteFiles(ws, tx);
            }
            else
            {
                output.WriteLine($"Wrote {tx.Paths.Count} files under {ws.Relative(ws.CertsDir)}/ and {ws.Relative(ws.PrivateDir)}/ (per device: <id>.cert.pem, <id>-chain.cert.pem, <id>-full-chain.cert.pem, <id>.cert.pfx, private/<id>.key.pem).");
            }

            WriteWarnings(warnings.Distinct());
            output.WriteLine($"The device must present <id>-chain.cert.pem (its certificate{(fromIntermediate ? " and the intermediate" : string.Empty)}) or load <id>.cert.pfx, which holds the key and the chain; the PFX password is the passphrase from {passphrase.Source}.");
            return ExitCodes.Success;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is PkiException))
        {
            throw ex.InnerExceptions[0];
        }
        finally
        {
            foreach (var bundle in bundles)
            {
                bundle.Issued?.Dispose();
            }
        }
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
            Validity = args.GetInt("days", 1, 36500) is { } d ? TimeSpan.FromDays(d) : settings is null ? null : TimeSpan.FromDays(settings.DeviceDays),
            ExpectedRegistrationId = args.Get("registration-id"),
        }, ca);

        var id = SubjectNames.GetCommonName(issued.Certificate)!;
        var tx = new FileTransaction();
        var force = args.Has("force");
        tx.Add(ws.Cert(id), CertificateExport.ToPem(issued.Certificate), mayReplace: force);
        tx.Add(ws.Cert(id + "-chain"), CertificateExport.ToPem(issued.DeviceChain), mayReplace: force);
        tx.Add(ws.Cert(id + "-full-chain"), CertificateExport.ToPem(issued.FullChain), mayReplace: force);
        tx.Commit();
        output.WriteLine($"Signed the CSR for '{id}' ({CertificateDescription.DescribeKey(issued.Certificate.PublicKey)}) with '{SubjectNames.GetCommonName(ca.Certificate)}'; the private key stayed on the device.");
        WriteFiles(ws, tx);
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
        using var read = CertificateReader.Read(bytes, password);
        output.WriteLine($"{ws.Relative(path)}: {read.Certificates.Count} certificate(s), {read.Format} format{(read.Key is null ? string.Empty : $", with its private key ({read.Key.Algorithm.ToDisplay()})")}.");
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

    private static void AddDeviceFiles(FileTransaction tx, Workspace ws, string name, IssuedCertificate issued, string key, byte[] pfx, bool mayReplace)
    {
        tx.Add(ws.Cert(name), CertificateExport.ToPem(issued.Certificate), mayReplace: mayReplace);
        tx.Add(ws.Cert(name + "-chain"), CertificateExport.ToPem(issued.DeviceChain), mayReplace: mayReplace);
        tx.Add(ws.Cert(name + "-full-chain"), CertificateExport.ToPem(issued.FullChain), mayReplace: mayReplace);
        tx.Add(ws.Pfx(name), pfx, secret: true, mayReplace: mayReplace);
        tx.Add(ws.Key(name), key, secret: true, mayReplace: mayReplace);
    }

    private static bool ParseCaChoice(ParsedArguments args, bool defaultIntermediate) => args.Get("ca")?.ToLowerInvariant() switch
    {
        null => defaultIntermediate,
        "root" => false,
        "intermediate" => true,
        var other => throw new CliException($"--ca must be 'root' or 'intermediate' (got '{other}').", ExitCodes.Usage),
    };

    private static ProfilePreset PresetOf(WorkspaceSettings? settings) =>
        settings is null ? ProfilePreset.Recommended : IssuancePolicy.ParsePreset(settings.Preset);

    private static KeyAlgorithm? KeyTypeOf(ParsedArguments args, WorkspaceSettings? settings) =>
        args.Get("key-type") is { } name ? KeyAlgorithms.Parse(name) : settings is null ? null : KeyAlgorithms.Parse(settings.KeyType);

    private void WriteValidity(string what, IssuedCertificate issued) =>
        output.WriteLine($"  {what} valid until {issued.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd} UTC, SHA-1 thumbprint {issued.Certificate.Thumbprint}");

    private void WriteFiles(Workspace ws, FileTransaction tx)
    {
        foreach (var path in tx.Paths)
        {
            output.WriteLine($"  wrote {ws.Relative(path)}");
        }
    }

    private void WriteWarnings(IEnumerable<string> warnings)
    {
        foreach (var warning in warnings)
        {
            output.WriteLine($"warning: {warning}");
        }
    }
}
