using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Provisioning.Arm;
using CheeseCave.Provisioning.Errors;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups;

/// <summary>
/// Step 5 with an existing CA (import, with or without its key) and step 7 by hand for a CA whose key the portal does
/// not hold (code from the DPS, equivalent openssl commands, the user's verification certificate checked before it
/// is sent). Each change is one method taking one request, so an approval gate can wrap it like the other changes.
/// </summary>
public sealed partial class SetupWizardService
{
    private const int MinimumRsaBits = 2048;

    // ------------------------------------------------------------------ step 5: import an existing CA

    /// <summary>
    /// Imports an existing root CA, or an intermediate with its issuer chain (in the file, in <see cref="CaImportRequest.Chain"/>
    /// or the setup's root). The key, when given, goes only into the protected key store. Each refusal says why in
    /// plain words; linter findings come back as warnings.
    /// </summary>
    public Task<SetupResult<CaImportResult>> ImportCaAsync(ClaimsPrincipal caller, int setupId, CaImportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChangeAsync<CaImportResult>(caller, setupId, CaImportAuditActions.CaImported, "import a CA", "import a CA", async (setup, _, db) =>
        {
            var tooLarge = CheckSizes(request);
            if (tooLarge is not null)
            {
                return Refuse<CaImportResult>(tooLarge, "Choose the CA certificate file (PEM, .cer or .pfx).");
            }

            var existing = await db.SetupCertificates.Where(c => c.SetupId == setup.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            if (existing.Any(c => c.Kind == SetupCertificateKind.Intermediate))
            {
                return Refuse<CaImportResult>("This setup already has its root and intermediate CA.", "Use them, or create a new setup for another CA.");
            }

            using var material = ReadImport(request, out var readError);
            if (material is null)
            {
                return SetupResult.Fail<CaImportResult>(readError!);
            }

            var ca = material.Certificate;
            var problem = CheckCa(ca, "This certificate") ?? CheckKeyMatches(material.Key, ca);
            if (problem is not null)
            {
                return SetupResult.Fail<CaImportResult>(problem);
            }

            var existingCertificates = existing.Select(c => X509Certificate2.CreateFromPem(c.Pem)).ToList();
            try
            {
                var path = BuildIssuerPath(ca, [.. material.Chain, .. existingCertificates], out var pathError);
                if (path is null)
                {
                    return SetupResult.Fail<CaImportResult>(pathError!);
                }

                foreach (var issuer in path.Skip(1))
                {
                    var issuerProblem = CheckCa(issuer, $"The issuing CA '{issuer.Subject}' in the chain");
                    if (issuerProblem is not null)
                    {
                        return SetupResult.Fail<CaImportResult>(issuerProblem);
                    }
                }

                var existingRoot = existing.FirstOrDefault(c => c.Id == setup.RootCertificateId) ?? existing.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root);
                var actor = Actor.From(caller);
                SetupCertificate imported;
                if (existingRoot is null)
                {
                    if (path.Count > 2)
                    {
                        return Refuse<CaImportResult>($"This CA is {path.Count - 1} levels below its root; a setup keeps a root and one intermediate.",
                            "Import the intermediate that the root signed directly, or the root itself.");
                    }

                    if (path.Count == 1)
                    {
                        imported = await StoreImportedAsync(db, setup, SetupCertificateKind.Root, ca, material.Key, actor, cancellationToken).ConfigureAwait(false);
                        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                        setup.RootCertificateId = imported.Id;
                    }
                    else
                    {
                        // The root comes from the chain (public only); the portal holds at most the intermediate's key.
                        var root = await StoreImportedAsync(db, setup, SetupCertificateKind.Root, path[1], null, actor, cancellationToken).ConfigureAwait(false);
                        imported = await StoreImportedAsync(db, setup, SetupCertificateKind.Intermediate, ca, material.Key, actor, cancellationToken).ConfigureAwait(false);
                        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                        setup.RootCertificateId = root.Id;
                    }
                }
                else
                {
                    using var rootX509 = X509Certificate2.CreateFromPem(existingRoot.Pem);
                    if (path.Count != 2 || !path[1].RawData.AsSpan().SequenceEqual(rootX509.RawData))
                    {
                        return Refuse<CaImportResult>(
                            $"This setup already has the root CA '{existingRoot.Subject}'; only an intermediate it signed directly can be added, and '{ca.Subject}' is not one.",
                            "Import that intermediate, or create a new setup for another CA.");
                    }

                    imported = await StoreImportedAsync(db, setup, SetupCertificateKind.Intermediate, ca, material.Key, actor, cancellationToken).ConfigureAwait(false);
                    await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                }

                setup.CurrentStep = Math.Max(setup.CurrentStep, 6);
                var warnings = CertificateLinter.Lint(path, Time).Findings
                    .Where(f => f.Severity != FindingSeverity.Info).Select(f => f.Message).ToList();
                return SetupResult.Ok(new CaImportResult(ToView(imported), warnings));
            }
            finally
            {
                foreach (var certificate in existingCertificates)
                {
                    certificate.Dispose();
                }
            }
        }, cancellationToken);
    }

    private static string? CheckSizes(CaImportRequest request)
    {
        if (request.Certificate.Length == 0)
        {
            return "No certificate was given.";
        }

        if (request.Certificate.Length > CaImportLimits.MaxFileBytes)
        {
            return CaImportLimits.TooLarge("certificate file", request.Certificate.Length);
        }

        if (request.PrivateKeyPem?.Length > CaImportLimits.MaxFileBytes)
        {
            return CaImportLimits.TooLarge("key file", request.PrivateKeyPem.Length);
        }

        return request.Chain?.Length > CaImportLimits.MaxFileBytes ? CaImportLimits.TooLarge("chain file", request.Chain.Length) : null;
    }

    /// <summary>The CA (first certificate, or the one the PFX key belongs to), the rest as chain, and at most one key.</summary>
    private static ImportMaterial? ReadImport(CaImportRequest request, out SetupError? error)
    {
        error = null;
        ReadCertificates read;
        try
        {
            read = CertificateReader.Read(request.Certificate, string.IsNullOrEmpty(request.Password) ? null : request.Password);
        }
        catch (PkiException ex)
        {
            error = ex.Code == PkiErrorCode.WrongPassphrase
                ? new SetupError(ex.Message, "Enter the PFX password again (it is case-sensitive), or export the certificate as PEM.")
                : new SetupError($"The certificate could not be read. {ex.Message}", "Give the CA certificate as PEM, DER (.cer), base64 or a PFX file.");
            return null;
        }

        var key = read.Key;
        var chain = read.Certificates.Skip(1).ToList();
        try
        {
            if (request.PrivateKeyPem is { Length: > 0 } keyBytes)
            {
                if (key is not null)
                {
                    error = new SetupError("Two private keys were given: one with the certificate and a separate key file.", "Give the key only once.");
                    return Abandon();
                }

                string keyText;
                try
                {
                    keyText = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(keyBytes);
                }
                catch (DecoderFallbackException)
                {
                    error = new SetupError("The key file is not PEM text.", "Give the private key as PEM (BEGIN PRIVATE KEY, ENCRYPTED PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY).");
                    return Abandon();
                }

                try
                {
                    key = PrivateKey.ImportPem(keyText, string.IsNullOrEmpty(request.KeyPassphrase) ? null : request.KeyPassphrase);
                }
                catch (PkiException ex)
                {
                    error = new SetupError($"The private key could not be read. {ex.Message}",
                        ex.Code == PkiErrorCode.WrongPassphrase ? "Enter the key's passphrase again." : "Give the CA's private key as PEM.");
                    return Abandon();
                }
            }

            if (request.Chain is { Length: > 0 } chainBytes)
            {
                try
                {
                    using var extra = CertificateReader.Read(chainBytes);
                    if (extra.Key is not null)
                    {
                        error = new SetupError("The chain file holds a private key.", "The chain needs the issuing CA certificates only; remove the key from it.");
                        return Abandon();
                    }

                    chain.AddRange(extra.Certificates);
                }
                catch (PkiException ex)
                {
                    error = new SetupError($"The chain could not be read. {ex.Message}", "Give the issuing CA certificates as PEM (one after the other) or DER.");
                    return Abandon();
                }
            }

            return new ImportMaterial(read.Certificates[0], chain, key, read);
        }
        catch
        {
            Abandon();
            throw;
        }

        ImportMaterial? Abandon()
        {
            key?.Dispose();
            read.Dispose();
            return null;
        }
    }

    /// <summary>A CA the portal can use: CA:true, allowed to sign certificates, in its validity period, strong enough.</summary>
    private SetupError? CheckCa(X509Certificate2 certificate, string what)
    {
        var basic = certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (basic is not { CertificateAuthority: true })
        {
            return new SetupError($"{what} ('{certificate.Subject}') is not a CA: its basic constraints do not say CA:true, so it cannot sign device certificates.",
                "Import the CA certificate that issues your device certificates, not a device (leaf) certificate.");
        }

        var usage = certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (usage is not null && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign))
        {
            return new SetupError($"{what} ('{certificate.Subject}') is marked as a CA, but its key usage does not allow signing certificates (keyCertSign).",
                "Re-issue the CA with keyUsage keyCertSign (and cRLSign), then import it again.");
        }

        var now = Time.GetUtcNow();
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        if (now < notBefore)
        {
            return new SetupError($"{what} ('{certificate.Subject}') is not valid yet: it starts on {notBefore:yyyy-MM-dd HH:mm} UTC.",
                "Check the clock of the machine that made it, or wait until then.");
        }

        if (now > notAfter)
        {
            return new SetupError($"{what} ('{certificate.Subject}') expired on {notAfter:yyyy-MM-dd HH:mm} UTC.",
                "Renew the CA (a new certificate for its key, or a new CA) and import that.");
        }

        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is not null && rsa.KeySize < MinimumRsaBits)
        {
            return new SetupError($"{what} ('{certificate.Subject}') has a {rsa.KeySize.ToString(CultureInfo.InvariantCulture)}-bit RSA key; at least {MinimumRsaBits.ToString(CultureInfo.InvariantCulture)} bits are required.",
                "Make a new CA with RSA 2048 or more (or ECDSA P-256) and import that.");
        }

        return null;
    }

    private static SetupError? CheckKeyMatches(PrivateKey? key, X509Certificate2 certificate) =>
        key is null || key.Matches(certificate) ? null
            : new SetupError($"The private key does not belong to '{certificate.Subject}': its public half is not the certificate's.",
                "Give the key file that was made together with this CA certificate.");

    /// <summary>The path from <paramref name="ca"/> up to a self-signed root, each step checked by signature.</summary>
    private static List<X509Certificate2>? BuildIssuerPath(X509Certificate2 ca, IReadOnlyList<X509Certificate2> candidates, out SetupError? error)
    {
        error = null;
        var path = new List<X509Certificate2> { ca };
        var current = ca;
        while (!SignatureVerifier.IsSelfSigned(current))
        {
            var issuer = candidates.FirstOrDefault(c => c.SubjectName.RawData.AsSpan().SequenceEqual(current.IssuerName.RawData)
                && !path.Any(p => p.RawData.AsSpan().SequenceEqual(c.RawData)) && SignatureVerifier.IsSignedBy(current, c));
            if (issuer is null)
            {
                error = current == ca
                    ? new SetupError($"'{ca.Subject}' is an intermediate CA issued by '{ca.Issuer}', but that issuer is not among the certificates given or in this setup.",
                        "Add the issuing CA certificates up to the self-signed root: in the same PEM file after the CA, or as a chain file.")
                    : new SetupError($"The chain stops at '{current.Subject}': its issuer '{current.Issuer}' is missing.",
                        "Add every issuing CA certificate up to the self-signed root to the chain.");
                return null;
            }

            if (path.Count > 8)
            {
                error = new SetupError("The chain is longer than eight certificates.", "Check the chain bundle.");
                return null;
            }

            path.Add(issuer);
            current = issuer;
        }

        return path;
    }

    private async Task<SetupCertificate> StoreImportedAsync(PortalDbContext db, DpsSetup setup, SetupCertificateKind kind, X509Certificate2 certificate, PrivateKey? key, Actor actor, CancellationToken cancellationToken)
    {
        string? keyId = null;
        if (key is not null)
        {
            keyId = $"setup-{setup.Id}/{kind.ToString().ToLowerInvariant()}-imported-{Guid.NewGuid():N}";
            await Keys.SaveAsync(keyId, key, cancellationToken).ConfigureAwait(false);
        }

        var entity = new SetupCertificate
        {
            SetupId = setup.Id,
            Kind = kind,
            Subject = certificate.Subject,
            ThumbprintSha1 = certificate.Thumbprint,
            ThumbprintSha256 = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)),
            NotBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime()),
            NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime()),
            Pem = CertificateExport.ToPem(certificate),
            KeyId = keyId,
            CreatedBy = actor.Name,
            CreatedAt = Time.GetUtcNow(),
        };
        db.SetupCertificates.Add(entity);
        await Audit.WriteAsync(actor, CaImportAuditActions.CaImported, Target(setup), AuditOutcomes.Succeeded,
            $"{kind} '{certificate.Subject}' SHA-1 {certificate.Thumbprint}, {(keyId is null ? "without key" : "key stored encrypted")}", cancellationToken).ConfigureAwait(false);
        return entity;
    }

    private static SetupResult<T> Refuse<T>(string message, string whatToDo) => SetupResult.Fail<T>(new SetupError(message, whatToDo));

    private sealed class ImportMaterial(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chain, PrivateKey? key, ReadCertificates read) : IDisposable
    {
        public X509Certificate2 Certificate { get; } = certificate;

        public IReadOnlyList<X509Certificate2> Chain { get; } = chain;

        public PrivateKey? Key { get; } = key;

        public void Dispose()
        {
            if (!ReferenceEquals(Key, read.Key))
            {
                Key?.Dispose();
            }

            read.Dispose();
        }
    }

    // ------------------------------------------------------------------ step 7: proof of possession, live state and by hand

    /// <summary>
    /// The uploaded CA as the DPS reports it now, and the last verification code while it is still the current one.
    /// The database's verified flag follows the DPS (it may have been verified elsewhere, e.g. with the az CLI).
    /// </summary>
    public async Task<SetupResult<ProofView>> GetProofAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default)
    {
        if (await RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return SetupResult.Fail<ProofView>(SetupError.NotAllowed("see setups"));
        }

        await using var db = await Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return SetupResult.Fail<ProofView>(SetupError.NotFound);
        }

        try
        {
            var (root, live, error) = await ReadUploadedAsync(setup, Provisioning.CreateArmClient(caller), db, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                return SetupResult.Fail<ProofView>(error);
            }

            if (root!.IsVerified != live!.IsVerified)
            {
                root.IsVerified = live.IsVerified;
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }

            return SetupResult.Ok(await ProofViewAsync(setup, root, live, cancellationToken).ConfigureAwait(false));
        }
        catch (ProvisioningException ex)
        {
            return SetupResult.Fail<ProofView>(SetupError.From(ex));
        }
    }

    /// <summary>Asks the DPS for a new verification code (replacing any earlier one) and remembers it for this CA.</summary>
    public Task<SetupResult<ProofView>> GenerateVerificationCodeAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default) =>
        ChangeAsync<ProofView>(caller, setupId, CaImportAuditActions.VerificationCodeGenerated, "verification code for the root CA", "get a verification code", async (setup, arm, db) =>
        {
            var (root, live, error) = await ReadUploadedAsync(setup, arm, db, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                return SetupResult.Fail<ProofView>(error);
            }

            if (live!.IsVerified)
            {
                root!.IsVerified = true;
                return Refuse<ProofView>($"'{live.Name}' is already verified on the DPS.", "Go on to the enrollment group (step 8).");
            }

            var code = await arm.GenerateVerificationCodeAsync(setup.ResourceGroup!, setup.DpsName!, root!.DpsCertificateName!, cancellationToken).ConfigureAwait(false);
            // Read again: the etag of a plain read is what later reads compare with.
            var after = await arm.GetCertificateAsync(setup.ResourceGroup!, setup.DpsName!, root.DpsCertificateName!, cancellationToken).ConfigureAwait(false) ?? code.Certificate;
            var actor = Actor.From(caller);
            await proofs.UpdateAsync(setup.Id, root.Id, previous => new ProofRecord(code.Code, after.ETag, after.Thumbprint, Time.GetUtcNow(), actor.Name,
                previous?.VerificationPem, previous?.VerifiedAt), cancellationToken).ConfigureAwait(false);
            return SetupResult.Ok(await ProofViewAsync(setup, root, after, cancellationToken).ConfigureAwait(false));
        }, cancellationToken);

    /// <summary>
    /// Manual proof of possession: checks the user's verification certificate (readable, CN exactly the current
    /// code, signed by this CA, in its validity period) and only then sends it to the DPS.
    /// </summary>
    public Task<SetupResult<ProofView>> SubmitVerificationCertificateAsync(ClaimsPrincipal caller, int setupId, ManualProofRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ChangeAsync<ProofView>(caller, setupId, CaImportAuditActions.VerificationSubmitted, "verification certificate for the root CA", "verify the CA", async (setup, arm, db) =>
        {
            if (request.VerificationCertificate.Length == 0)
            {
                return Refuse<ProofView>("No verification certificate was given.", $"Choose {VerificationCommands.OutputFile} or paste its text.");
            }

            if (request.VerificationCertificate.Length > CaImportLimits.MaxFileBytes)
            {
                return Refuse<ProofView>(CaImportLimits.TooLarge("verification certificate", request.VerificationCertificate.Length), $"Choose {VerificationCommands.OutputFile}.");
            }

            X509Certificate2 verification;
            try
            {
                using var read = CertificateReader.Read(request.VerificationCertificate);
                if (read.Key is not null)
                {
                    return Refuse<ProofView>("The file also holds a private key.", $"Send only the certificate ({VerificationCommands.OutputFile}); keep keys where they are.");
                }

                verification = read.Certificates[0];
            }
            catch (PkiException ex)
            {
                return Refuse<ProofView>($"This is not a readable certificate. {ex.Message}", $"Give {VerificationCommands.OutputFile} as made by the commands (PEM), or as DER.");
            }

            using (verification)
            {
                var (root, live, error) = await ReadUploadedAsync(setup, arm, db, cancellationToken).ConfigureAwait(false);
                if (error is not null)
                {
                    return SetupResult.Fail<ProofView>(error);
                }

                if (live!.IsVerified)
                {
                    root!.IsVerified = true;
                    return Refuse<ProofView>($"'{live.Name}' is already verified on the DPS.", "Go on to the enrollment group (step 8).");
                }

                var record = await proofs.ReadAsync(setup.Id, root!.Id, cancellationToken).ConfigureAwait(false);
                if (record?.Code is not { } code || record.DpsEtag != live.ETag)
                {
                    return Refuse<ProofView>(record?.Code is null
                            ? "There is no verification code for this CA yet."
                            : "The verification code was replaced: the certificate changed on the DPS after the code was issued (a newer code, or a new upload).",
                        "Get a verification code, make the verification certificate with it, and send that.");
                }

                var commonName = SubjectNames.GetCommonName(verification);
                if (!string.Equals(commonName, code, StringComparison.Ordinal))
                {
                    return Refuse<ProofView>($"The certificate's common name is '{commonName ?? "(none)"}', but the current verification code is '{code}'.",
                        $"Make the certificate again with CN={code} exactly (the commands shown use it).");
                }

                using var rootX509 = X509Certificate2.CreateFromPem(root.Pem);
                if (!SignatureVerifier.IsSignedBy(verification, rootX509))
                {
                    return Refuse<ProofView>($"The verification certificate is signed by a different CA (it names '{verification.Issuer}' as issuer), not by '{rootX509.Subject}'.",
                        $"Sign it with the private key of '{rootX509.Subject}', the CA uploaded to the DPS.");
                }

                var now = Time.GetUtcNow();
                if (now < new DateTimeOffset(verification.NotBefore.ToUniversalTime()) || now > new DateTimeOffset(verification.NotAfter.ToUniversalTime()))
                {
                    return Refuse<ProofView>($"The verification certificate is only valid from {verification.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} to {verification.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC, not now.",
                        "Make it again (the commands give 30 days) and check the clock of the machine that signs it.");
                }

                var verified = await arm.VerifyCertificateAsync(setup.ResourceGroup!, setup.DpsName!, root.DpsCertificateName!, verification, cancellationToken).ConfigureAwait(false);
                root.IsVerified = verified.IsVerified;
                if (!verified.IsVerified)
                {
                    return Refuse<ProofView>("DPS did not mark the CA as verified.", "Get a new verification code and try again.");
                }

                await RememberVerificationAsync(setup.Id, root.Id, verification, cancellationToken).ConfigureAwait(false);
                setup.CurrentStep = Math.Max(setup.CurrentStep, 8);
                return SetupResult.Ok(await ProofViewAsync(setup, root, verified, cancellationToken).ConfigureAwait(false));
            }
        }, cancellationToken);
    }

    /// <summary>The verification certificate that proved possession (one click or by hand), PEM or DER. Public; audited.</summary>
    public async Task<SetupResult<CertificateFile>> DownloadVerificationCertificateAsync(ClaimsPrincipal caller, int setupId, int certificateId, bool der, CancellationToken cancellationToken = default)
    {
        var target = $"setup {setupId} certificate {certificateId} verification";
        var actor = await RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await Audit.WriteAsync(Actor.From(caller), CaImportAuditActions.VerificationDownloaded, target, AuditOutcomes.Denied, cancellationToken: cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<CertificateFile>(SetupError.NotAllowed("download certificates"));
        }

        await using var db = await Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var certificate = await db.SetupCertificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == certificateId && c.SetupId == setupId, cancellationToken).ConfigureAwait(false);
        var record = certificate is null ? null : await proofs.ReadAsync(setupId, certificateId, cancellationToken).ConfigureAwait(false);
        if (certificate is null || record?.VerificationPem is not { } pem)
        {
            return SetupResult.Fail<CertificateFile>(SetupError.NotFound);
        }

        var baseName = FileNameFor(certificate) + "-verification";
        CertificateFile file;
        if (der)
        {
            using var x509 = X509Certificate2.CreateFromPem(pem);
            file = new CertificateFile(baseName + ".cer", "application/pkix-cert", CertificateExport.ToDer(x509));
        }
        else
        {
            file = new CertificateFile(baseName + ".pem", "application/x-pem-file", Encoding.ASCII.GetBytes(pem));
        }

        await Audit.WriteAsync(actor, CaImportAuditActions.VerificationDownloaded, target, AuditOutcomes.Succeeded, file.FileName, cancellationToken).ConfigureAwait(false);
        return SetupResult.Ok(file);
    }

    /// <summary>Keeps the verification certificate DPS accepted, so it can be downloaded later.</summary>
    private Task<ProofRecord> RememberVerificationAsync(int setupId, int certificateId, X509Certificate2 verification, CancellationToken cancellationToken) =>
        proofs.UpdateAsync(setupId, certificateId, previous => (previous ?? new ProofRecord(null, null, null, null, null, null, null)) with
        {
            VerificationPem = CertificateExport.ToPem(verification),
            VerifiedAt = Time.GetUtcNow(),
        }, cancellationToken);

    /// <summary>The setup's root as stored (tracked) and as the DPS reports it now, or what is missing.</summary>
    private static async Task<(SetupCertificate? Root, DpsCertificateInfo? Live, SetupError? Error)> ReadUploadedAsync(DpsSetup setup, ArmProvisioningClient arm, PortalDbContext db, CancellationToken cancellationToken)
    {
        if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
        {
            return (null, null, new SetupError("This setup has no DPS yet.", "Create or pick one in step 1 first."));
        }

        var root = await db.SetupCertificates.FirstOrDefaultAsync(c => c.Id == setup.RootCertificateId, cancellationToken).ConfigureAwait(false);
        if (root?.DpsCertificateName is not { } name)
        {
            return (root, null, new SetupError("The CA is not uploaded to the DPS yet.", "Upload it in step 6 first."));
        }

        var live = await arm.GetCertificateAsync(group, dpsName, name, cancellationToken).ConfigureAwait(false);
        return live is null
            ? (root, null, new SetupError($"The certificate '{name}' is no longer on the DPS '{dpsName}'.", "Upload the CA again in step 6."))
            : (root, live, null);
    }

    private async Task<ProofView> ProofViewAsync(DpsSetup setup, SetupCertificate root, DpsCertificateInfo live, CancellationToken cancellationToken)
    {
        var record = await proofs.ReadAsync(setup.Id, root.Id, cancellationToken).ConfigureAwait(false);
        var state = live.IsVerified || record?.Code is null ? VerificationCodeState.None
            : record.DpsEtag == live.ETag ? VerificationCodeState.Current
            : VerificationCodeState.Replaced;
        var code = state == VerificationCodeState.Current ? record!.Code : null;
        return new ProofView(root.Id, live.Name, live.IsVerified, root.KeyId is not null, state, code,
            code is null ? null : record!.CodeGeneratedAt, code is null ? null : record!.CodeGeneratedBy,
            code is null ? null : VerificationCommands.For(code, FileNameFor(root) + ".pem"),
            record?.VerificationPem is not null);
    }
}
