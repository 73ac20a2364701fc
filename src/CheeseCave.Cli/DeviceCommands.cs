using System.Diagnostics;
using System.Globalization;
using CheeseCave.Pki;

namespace CheeseCave.Cli;

/// <summary>certGen's device commands: create_device_certificate[_from_intermediate] (one or a batch) and create_edge_device_certificate.</summary>
internal sealed class DeviceCommands(TextWriter output, Func<string, string?> environment, TimeProvider time)
{
    private const string DeviceAlias = "new-device";
    private const string EdgeAlias = "new-edge-device";
    private const string TimingsVariable = "CHEESECAVE_TIMINGS";
    private readonly CertificateAuthority _ca = new(time);

    public int CreateDeviceCertificates(ParsedArguments args, Workspace ws, bool fromIntermediate)
    {
        var stopwatch = Stopwatch.StartNew();
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
        var legacy = args.Has("legacy-pfx");

        // The batch's one passphrase derivation runs while the CA key is decrypted (each is ~100,000 PBKDF2 rounds).
        var encryptionTask = legacy ? null : Task.Run(() => new BatchEncryption(passphrase.Value, passphrase.MachineGenerated));
        using var ca = ws.LoadCa(fromIntermediate, passphrase.Value, time.GetUtcNow());
        using var encryption = encryptionTask?.GetAwaiter().GetResult();
        var keysReady = stopwatch.Elapsed;
        var request = new DeviceCertificateRequest(id)
        {
            Preset = Commands.PresetOf(settings),
            KeyAlgorithm = Commands.KeyTypeOf(args, settings),
            Validity = args.GetInt("days", 1, 36500) is { } d ? TimeSpan.FromDays(d) : null,
            DefaultValidity = settings is null ? null : TimeSpan.FromDays(settings.DeviceDays),
        };

        var renewal = args.Has("force") ? IfExists.Replace : IfExists.Archive;
        var tx = new FileTransaction(ws.Root, ws.ArchiveDirectory(time.GetUtcNow()));
        var slots = ids.Select(deviceId => DeviceFiles.Reserve(tx, ws, deviceId, renewal)).ToArray();
        // certGen.sh's fixed names, replaced on every run, so the Learn module's steps work unchanged.
        var alias = ids.Count == 1 && ids[0] != DeviceAlias ? DeviceFiles.Reserve(tx, ws, DeviceAlias, IfExists.Replace) : null;
        tx.CheckConflicts(); // before a single key is made
        var checkedAt = stopwatch.Elapsed;
        var bundles = new DeviceFiles[ids.Count];
        try
        {
            // Keys, certificates and their encryption are prepared on every core; the files are written together,
            // and only if every device succeeded.
            Parallel.For(0, ids.Count, i =>
            {
                var issued = _ca.IssueDeviceCertificate(request with { RegistrationId = ids[i] }, ca);
                bundles[i] = DeviceFiles.Of(issued, encryption, passphrase.Value);
                bundles[i].FillInto(tx, slots[i]);
                if (alias is not null)
                {
                    bundles[i].FillInto(tx, alias);
                }
            });

            var prepared = stopwatch.Elapsed;
            tx.Commit();
            if (environment(TimingsVariable) == "1")
            {
                // For tests/CheeseCave.Benchmarks/cli-batch.sh: where a batch's time goes.
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"timings: CA key and batch key {keysReady.TotalSeconds:0.000} s, outputs checked {checkedAt.TotalSeconds:0.000} s, devices prepared {prepared.TotalSeconds:0.000} s, files {string.Join(", ", tx.Timings.Select(t => $"{t.Phase} {(prepared + t.Elapsed).TotalSeconds:0.000} s"))}"));
            }

            var signer = SubjectNames.GetCommonName(ca.Certificate);
            var until = bundles[0].Issued.Certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            output.WriteLine(ids.Count == 1
                ? $"Issued device certificate '{ids[0]}' ({(request.KeyAlgorithm ?? IssuancePolicy.For(request.Preset).KeyAlgorithm).ToDisplay()}, valid until {until} UTC), signed by '{signer}'."
                : $"Issued {ids.Count} device certificates '{ids[0]}' to '{ids[^1]}' (valid until {until} UTC), signed by '{signer}', in {stopwatch.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s.");
            WriteOutputs(ws, tx, ids.Count);
            WriteNotes(bundles.SelectMany(b => b.Issued.Warnings).Distinct());
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
                bundle?.Issued.Dispose();
            }
        }
    }

    /// <summary>
    /// certGen's create_edge_device_certificate: an IoT Edge device CA with CN "&lt;id&gt;.ca", signed by the
    /// intermediate (by the root when the intermediate may only sign devices, as in the recommended preset).
    /// </summary>
    public int CreateEdgeDeviceCertificate(ParsedArguments args, Workspace ws)
    {
        var id = args.Positional[0];
        var passphrase = Passphrase.Require(args, ws, environment);
        var settings = ws.ReadSettings();
        var preset = Commands.PresetOf(settings);
        var useIntermediate = args.Get("ca") is null
            ? preset == ProfilePreset.CertGenCompatible && File.Exists(ws.IntermediateCertPath)
            : Commands.ParseCaChoice(args, defaultIntermediate: true);
        using var ca = ws.LoadCa(useIntermediate, passphrase.Value, time.GetUtcNow());
        using var issued = _ca.IssueEdgeDeviceCaCertificate(new EdgeDeviceCaRequest(id)
        {
            Preset = preset,
            KeyAlgorithm = Commands.KeyTypeOf(args, settings),
            Validity = args.GetInt("days", 1, 36500) is { } d ? TimeSpan.FromDays(d) : null,
            DefaultValidity = settings is null ? null : TimeSpan.FromDays(settings.DeviceDays),
        }, ca);

        using var encryption = new BatchEncryption(passphrase.Value, passphrase.MachineGenerated);
        var files = DeviceFiles.Of(issued, encryption, passphrase.Value);
        var tx = new FileTransaction(ws.Root, ws.ArchiveDirectory(time.GetUtcNow()));
        var name = SubjectNames.GetCommonName(issued.Certificate)!;
        files.AddTo(tx, ws, name, args.Has("force") ? IfExists.Replace : IfExists.Archive);
        files.AddTo(tx, ws, EdgeAlias, IfExists.Replace);
        tx.Commit();

        output.WriteLine($"Issued the IoT Edge device CA certificate '{name}' (CA:TRUE{(preset == ProfilePreset.CertGenCompatible ? string.Empty : ", path length 0")}, valid until {issued.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd} UTC), signed by the {(useIntermediate ? "intermediate" : "root")} CA '{SubjectNames.GetCommonName(ca.Certificate)}'.");
        WriteOutputs(ws, tx, 1);
        WriteNotes(issued.Warnings);
        output.WriteLine($"Point the edge's config.toml [edge_ca] cert at certs/{name}-full-chain.cert.pem and pk at the key (decrypt it for the edge runtime with: openssl pkey -in private/{name}.key.pem -out edge-ca.key.pem); the device's own identity certificate is a separate create_device_certificate.");
        return ExitCodes.Success;
    }

    private void WriteOutputs(Workspace ws, FileTransaction tx, int devices)
    {
        if (devices <= 3)
        {
            foreach (var path in tx.Paths)
            {
                output.WriteLine($"  wrote {ws.Relative(path)}");
            }

            foreach (var (from, to) in tx.Archived)
            {
                output.WriteLine($"  archived the previous {ws.Relative(from)} as {ws.Relative(to)}");
            }
        }
        else
        {
            output.WriteLine($"Wrote {tx.Paths.Count} files under {ws.Relative(ws.CertsDir)}/ and {ws.Relative(ws.PrivateDir)}/ (per device: <id>.cert.pem, <id>-chain.cert.pem, <id>-full-chain.cert.pem, <id>.cert.pfx, private/<id>.key.pem).");
            if (tx.Archived.Count > 0)
            {
                var folder = ws.Relative(Path.GetDirectoryName(Path.GetDirectoryName(tx.Archived[0].To)!)!);
                output.WriteLine($"Renewed devices: their previous {tx.Archived.Count} files were archived under {folder}/.");
            }
        }
    }

    private void WriteNotes(IEnumerable<string> warnings)
    {
        foreach (var warning in warnings)
        {
            output.WriteLine($"warning: {warning}");
        }
    }
}

/// <summary>One device's five files, encoded on a worker thread.</summary>
internal sealed record DeviceFiles(IssuedCertificate Issued, string CertificatePem, string ChainPem, string FullChainPem, string KeyPem, byte[] Pfx)
{
    public static DeviceFiles Of(IssuedCertificate issued, BatchEncryption? encryption, string passphrase)
    {
        var (key, pfx) = encryption?.ExportKeyAndPfx(issued)
            ?? new ProtectedKeyFiles(issued.Key!.ExportEncryptedPem(passphrase), CertificateExport.ToPfx(issued, passphrase, PfxEncryption.LegacyCompatible));
        return new(issued, issued.CertificatePem, issued.DeviceChainPem, issued.FullChainPem, key, pfx);
    }

    /// <summary>Claims a device's five output paths (certificate, chain, full chain, PFX, key) in that order.</summary>
    public static int[] Reserve(FileTransaction tx, Workspace ws, string name, IfExists ifExists) =>
    [
        tx.Reserve(ws.Cert(name), ifExists: ifExists),
        tx.Reserve(ws.Cert(name + "-chain"), ifExists: ifExists),
        tx.Reserve(ws.Cert(name + "-full-chain"), ifExists: ifExists),
        tx.Reserve(ws.Pfx(name), secret: true, ifExists: ifExists),
        tx.Reserve(ws.Key(name), secret: true, ifExists: ifExists),
    ];

    public void FillInto(FileTransaction tx, int[] slots)
    {
        tx.Fill(slots[0], CertificatePem);
        tx.Fill(slots[1], ChainPem);
        tx.Fill(slots[2], FullChainPem);
        tx.Fill(slots[3], Pfx);
        tx.Fill(slots[4], KeyPem);
    }

    public void AddTo(FileTransaction tx, Workspace ws, string name, IfExists ifExists) =>
        FillInto(tx, Reserve(tx, ws, name, ifExists));
}
