using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Approvals;
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
    /// plain words; linter findings come back as warnings. When imports need approval, everything is checked now, the
    /// key (if any) is stored encrypted under a new id, and a request carrying only public parts and that id is recorded.
    /// </summary>
    public async Task<SetupResult<CaImportResult>> ImportCaAsync(ClaimsPrincipal caller, int setupId, CaImportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Approvals.Requires(ApprovalAction.ImportCa)
            ? await RequestImportAsync(caller, setupId, request, cancellationToken).ConfigureAwait(false)
            : await ImportCaNowAsync(caller, setupId, request, null, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Imports now: from the user's files, or (when applying an approved request) from its public parts and stored key id.</summary>
    private Task<SetupResult<CaImportResult>> ImportCaNowAsync(ClaimsPrincipal caller, int setupId, CaImportRequest? request, ImportCaPayload? approved, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        ChangeAsync<CaImportResult>(caller, setupId, CaImportAuditActions.CaImported, Noted("import a CA", grant), "import a CA", async (setup, _, db) =>
        {
            if (request is not null && CheckSizes(request) is { } tooLarge)
            {
                return Refuse<CaImportResult>(tooLarge, "Choose the CA certificate file (PEM, .cer or .pfx).");
            }

            var existing = await db.SetupCertificates.Where(c => c.SetupId == setup.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            if (approved is not null)
            {
                // Approvers judged the setup as it was; a CA that arrived since (created, imported) wins, nothing is mixed in.
                var currentRoot = existing.FirstOrDefault(c => c.Id == setup.RootCertificateId) ?? existing.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root);
                if (!string.Equals(currentRoot?.ThumbprintSha1, approved.ExistingRootSha1, StringComparison.OrdinalIgnoreCase))
                {
                    return Refuse<CaImportResult>(currentRoot is null
                            ? "The setup's CA was removed since this import was requested."
                            : $"The setup got another CA since this import was requested: '{currentRoot.Subject}' (SHA-1 {currentRoot.ThumbprintSha1}).",
                        "Nothing was imported. Make a new request if this CA is still wanted (for an intermediate under the current root, or in a new setup).");
                }

                if (approved.KeyId is { } keyId && !await Keys.ExistsAsync(keyId, cancellationToken).ConfigureAwait(false))
                {
                    return Refuse<CaImportResult>("The private key stored with this request is no longer in the portal's key store.", "Make the import request again with the key.");
                }
            }

            SetupError? readError;
            using var material = approved is null ? ReadImport(request!, out readError) : ReadApproved(approved, out readError);
            if (material is null)
            {
                return SetupResult.Fail<CaImportResult>(readError!);
            }

            using var plan = PlanImport(setup, existing, material, out var problem);
            if (plan is null)
            {
                return SetupResult.Fail<CaImportResult>(problem!);
            }

            var ca = material.Certificate;
            var path = plan.Path;
            var actor = Actor.From(caller);
            var note = grant?.AuditNote;
            SetupCertificate imported;
            if (plan.ExistingRoot is null && path.Count == 1)
            {
                imported = await StoreImportedAsync(db, setup, SetupCertificateKind.Root, ca, material, actor, note, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                setup.RootCertificateId = imported.Id;
            }
            else if (plan.ExistingRoot is null)
            {
                // The root comes from the chain (public only); the portal holds at most the intermediate's key.
                var root = await StoreImportedAsync(db, setup, SetupCertificateKind.Root, path[1], null, actor, note, cancellationToken).ConfigureAwait(false);
                imported = await StoreImportedAsync(db, setup, SetupCertificateKind.Intermediate, ca, material, actor, note, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                setup.RootCertificateId = root.Id;
            }
            else
            {
                imported = await StoreImportedAsync(db, setup, SetupCertificateKind.Intermediate, ca, material, actor, note, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }

            setup.CurrentStep = Math.Max(setup.CurrentStep, 6);
            var warnings = CertificateLinter.Lint(path, Time).Findings
                .Where(f => f.Severity != FindingSeverity.Info).Select(f => f.Message).ToList();
            return SetupResult.Ok(new CaImportResult(ToView(imported), warnings));
        }, cancellationToken);

    /// <summary>
    /// The gated import: the same checks as an import now, then the key (if any) into the protected key store under a
    /// new id, then the request. If no request results (refused, cancelled, an error), the stored key is deleted again.
    /// </summary>
    private async Task<SetupResult<CaImportResult>> RequestImportAsync(ClaimsPrincipal caller, int setupId, CaImportRequest request, CancellationToken cancellationToken)
    {
        var actor = await RequireChangeAsync(caller, CaImportAuditActions.CaImported, $"setup {setupId}", cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return SetupResult.Fail<CaImportResult>(SetupError.NotAllowed("import a CA"));
        }

        if (await Approvals.FindPendingAsync(setupId, ApprovalAction.ImportCa, cancellationToken).ConfigureAwait(false) is { } open)
        {
            return Refuse<CaImportResult>($"A request to import a CA is already waiting for approval (#{open.RequestId}: {open.Title}).",
                "Wait for it to be decided, or cancel it on its page and ask again.");
        }

        string? keyId = null;
        SetupResult<CaImportResult>? outcome = null;
        try
        {
            ImportCaPayload payload;
            await using (var db = await Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
            {
                var setup = await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
                if (setup is null)
                {
                    return SetupResult.Fail<CaImportResult>(SetupError.NotFound);
                }

                var existing = await db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == setupId).ToListAsync(cancellationToken).ConfigureAwait(false);
                SetupError? problem = null;
                ImportMaterial? material = null;
                if (CheckSizes(request) is { } tooLarge)
                {
                    problem = new SetupError(tooLarge, "Choose the CA certificate file (PEM, .cer or .pfx).");
                }
                else
                {
                    material = ReadImport(request, out problem);
                }

                using (material)
                {
                    using var plan = material is null ? null : PlanImport(setup, existing, material, out problem);
                    if (plan is null)
                    {
                        await Audit.WriteAsync(actor, CaImportAuditActions.CaImported, Target(setup), AuditOutcomes.Failed, Trim($"approval request refused: {problem!.Message}"), cancellationToken).ConfigureAwait(false);
                        return SetupResult.Fail<CaImportResult>(problem);
                    }

                    var ca = material!.Certificate;
                    var kind = plan.ExistingRoot is null && plan.Path.Count == 1 ? SetupCertificateKind.Root : SetupCertificateKind.Intermediate;
                    if (material.Key is { } key)
                    {
                        keyId = ImportedKeyId(setup.Id, kind);
                        await Keys.SaveAsync(keyId, key, cancellationToken).ConfigureAwait(false);
                    }

                    payload = new ImportCaPayload(CertificateExport.ToPem(ca), [.. plan.Path.Skip(1).Select(CertificateExport.ToPem)], keyId,
                        ca.Thumbprint, Convert.ToHexString(ca.GetCertHash(HashAlgorithmName.SHA256)), plan.ExistingRoot?.ThumbprintSha1);
                }
            }

            outcome = await GateAsync<CaImportResult>(caller, setupId, payload, CaImportAuditActions.CaImported, "import a CA", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (keyId is not null && outcome is not { IsPending: true })
            {
                // No request holds the key: it must not stay in the store unused.
                if (await ApprovalService.DeleteUnusedKeyAsync(Contexts, keyId).ConfigureAwait(false))
                {
                    await Audit.WriteAsync(actor, ApprovalAuditActions.StoredKeyDeleted, keyId, AuditOutcomes.Succeeded, "no approval request was recorded for it", CancellationToken.None).ConfigureAwait(false);
                }
            }
        }

        // Null only if approvals were switched off for imports a moment ago: then it is imported at once, as configured.
        return outcome ?? await ImportCaNowAsync(caller, setupId, request, null, null, cancellationToken).ConfigureAwait(false);
    }

    private static string ImportedKeyId(int setupId, SetupCertificateKind kind) => $"setup-{setupId}/{kind.ToString().ToLowerInvariant()}-imported-{Guid.NewGuid():N}";

    /// <summary>
    /// The import's checks, shared by an import now, a request and applying one: the setup has room for it, the CA and
    /// every issuer above it are usable CAs, the key (if given) is the CA's, and the path fits the setup (a root, a
    /// root and one intermediate, or an intermediate the setup's root signed directly).
    /// </summary>
    private ImportPlan? PlanImport(DpsSetup setup, List<SetupCertificate> existing, ImportMaterial material, out SetupError? error)
    {
        error = null;
        if (existing.Any(c => c.Kind == SetupCertificateKind.Intermediate))
        {
            error = new SetupError("This setup already has its root and intermediate CA.", "Use them, or create a new setup for another CA.");
            return null;
        }

        var ca = material.Certificate;
        error = CheckCa(ca, "This certificate") ?? CheckKeyMatches(material.Key, ca);
        if (error is not null)
        {
            return null;
        }

        var plan = new ImportPlan([.. existing.Select(c => X509Certificate2.CreateFromPem(c.Pem))]);
        try
        {
            var path = BuildIssuerPath(ca, [.. material.Chain, .. plan.ExistingCertificates], out error);
            if (path is null)
            {
                plan.Dispose();
                return null;
            }

            foreach (var issuer in path.Skip(1))
            {
                error = CheckCa(issuer, $"The issuing CA '{issuer.Subject}' in the chain");
                if (error is not null)
                {
                    plan.Dispose();
                    return null;
                }
            }

            var existingRoot = existing.FirstOrDefault(c => c.Id == setup.RootCertificateId) ?? existing.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root);
            if (existingRoot is null && path.Count > 2)
            {
                error = new SetupError($"This CA is {path.Count - 1} levels below its root; a setup keeps a root and one intermediate.",
                    "Import the intermediate that the root signed directly, or the root itself.");
            }
            else if (existingRoot is not null)
            {
                using var rootX509 = X509Certificate2.CreateFromPem(existingRoot.Pem);
                if (path.Count != 2 || !path[1].RawData.AsSpan().SequenceEqual(rootX509.RawData))
                {
                    error = new SetupError(
                        $"This setup already has the root CA '{existingRoot.Subject}'; only an intermediate it signed directly can be added, and '{ca.Subject}' is not one.",
                        "Import that intermediate, or create a new setup for another CA.");
                }
            }

            if (error is not null)
            {
                plan.Dispose();
                return null;
            }

            plan.Path = path;
            plan.ExistingRoot = existingRoot;
            return plan;
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    /// <summary>An approved request's public parts as import material; its key stays in the store under its id.</summary>
    private static ImportMaterial? ReadApproved(ImportCaPayload approved, out SetupError? error)
    {
        error = null;
        var certificate = X509Certificate2.CreateFromPem(approved.CertificatePem);
        if (!string.Equals(certificate.Thumbprint, approved.ThumbprintSha1, StringComparison.OrdinalIgnoreCase))
        {
            certificate.Dispose();
            error = new SetupError("The request's certificate does not match its recorded thumbprint.", "Make the import request again.");
            return null;
        }

        return new ImportMaterial(certificate, [.. approved.IssuerChainPem.Select(pem => X509Certificate2.CreateFromPem(pem))], null, null, approved.KeyId);
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

    private async Task<SetupCertificate> StoreImportedAsync(PortalDbContext db, DpsSetup setup, SetupCertificateKind kind, X509Certificate2 certificate, ImportMaterial? material, Actor actor, string? note, CancellationToken cancellationToken)
    {
        // An approved request brings the id its key was stored under when it was requested; an import now stores it here.
        var keyId = material?.StoredKeyId;
        if (material?.Key is { } key)
        {
            keyId = ImportedKeyId(setup.Id, kind);
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
        var detail = $"{kind} '{certificate.Subject}' SHA-1 {certificate.Thumbprint}, {(keyId is null ? "without key" : "key stored encrypted")}";
        await Audit.WriteAsync(actor, CaImportAuditActions.CaImported, Target(setup), AuditOutcomes.Succeeded,
            Trim(note is null ? detail : $"{detail}; {note}"), cancellationToken).ConfigureAwait(false);
        return entity;
    }

    private static SetupResult<T> Refuse<T>(string message, string whatToDo) => SetupResult.Fail<T>(new SetupError(message, whatToDo));

    /// <summary>What an import works with: the CA, the chain given with it, and its key (read now) or the id of a stored one.</summary>
    private sealed class ImportMaterial(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chain, PrivateKey? key, ReadCertificates? read, string? storedKeyId = null) : IDisposable
    {
        public X509Certificate2 Certificate { get; } = certificate;

        public IReadOnlyList<X509Certificate2> Chain { get; } = chain;

        public PrivateKey? Key { get; } = key;

        public string? StoredKeyId { get; } = storedKeyId;

        public void Dispose()
        {
            if (read is null)
            {
                // Made from an approved request's PEM: these certificates are ours alone.
                Certificate.Dispose();
                foreach (var certificate in Chain)
                {
                    certificate.Dispose();
                }

                return;
            }

            if (!ReferenceEquals(Key, read.Key))
            {
                Key?.Dispose();
            }

            read.Dispose();
        }
    }

    /// <summary>A checked import path (the CA first, up to its self-signed root) and the setup's root, if it has one.</summary>
    private sealed class ImportPlan(IReadOnlyList<X509Certificate2> existingCertificates) : IDisposable
    {
        public IReadOnlyList<X509Certificate2> ExistingCertificates { get; } = existingCertificates;

        public List<X509Certificate2> Path { get; set; } = [];

        public SetupCertificate? ExistingRoot { get; set; }

        public void Dispose()
        {
            foreach (var certificate in ExistingCertificates)
            {
                certificate.Dispose();
            }
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
    /// code, signed by this CA, in its validity period) and only then sends it to the DPS, or, when proof of possession
    /// needs approval, records a request carrying the certificate and the code it was made for.
    /// </summary>
    public async Task<SetupResult<ProofView>> SubmitVerificationCertificateAsync(ClaimsPrincipal caller, int setupId, ManualProofRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Approvals.Requires(ApprovalAction.ProveCa))
        {
            return await SubmitVerificationNowAsync(caller, setupId, request.VerificationCertificate, null, null, cancellationToken).ConfigureAwait(false);
        }

        var actor = await RequireChangeAsync(caller, CaImportAuditActions.VerificationSubmitted, $"setup {setupId}", cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return SetupResult.Fail<ProofView>(SetupError.NotAllowed("verify the CA"));
        }

        ManualProofPayload payload;
        await using (var db = await Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            var setup = await db.Setups.FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
            if (setup is null)
            {
                return SetupResult.Fail<ProofView>(SetupError.NotFound);
            }

            ManualProofCheck checkedProof;
            try
            {
                checkedProof = await CheckVerificationAsync(setup, Provisioning.CreateArmClient(caller), db, request.VerificationCertificate, null, cancellationToken).ConfigureAwait(false);
            }
            catch (ProvisioningException ex)
            {
                checkedProof = new ManualProofCheck(null, null, null, null, SetupError.From(ex));
            }

            if (checkedProof.Error is { } problem)
            {
                await Audit.WriteAsync(actor, CaImportAuditActions.VerificationSubmitted, Target(setup), AuditOutcomes.Failed, Trim($"approval request refused: {problem.Message}"), cancellationToken).ConfigureAwait(false);
                return SetupResult.Fail<ProofView>(problem);
            }

            using var verification = checkedProof.Verification!;
            payload = new ManualProofPayload(checkedProof.Root!.ThumbprintSha1, CertificateExport.ToPem(verification), checkedProof.Code!);
        }

        return await GateAsync<ProofView>(caller, setupId, payload, CaImportAuditActions.VerificationSubmitted, "verify the CA", cancellationToken).ConfigureAwait(false)
            ?? await SubmitVerificationNowAsync(caller, setupId, request.VerificationCertificate, null, null, cancellationToken).ConfigureAwait(false);
    }

    /// <param name="approved">When applying an approval: the certificate and code the approvers saw; a newer code is refused.</param>
    private Task<SetupResult<ProofView>> SubmitVerificationNowAsync(ClaimsPrincipal caller, int setupId, byte[] certificate, ManualProofPayload? approved, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        ChangeAsync<ProofView>(caller, setupId, CaImportAuditActions.VerificationSubmitted, Noted("verification certificate for the root CA", grant), "verify the CA", async (setup, arm, db) =>
        {
            var checkedProof = await CheckVerificationAsync(setup, arm, db, certificate, approved, cancellationToken).ConfigureAwait(false);
            if (checkedProof.Error is { } problem)
            {
                return SetupResult.Fail<ProofView>(problem);
            }

            using var verification = checkedProof.Verification!;
            var root = checkedProof.Root!;
            var verified = await arm.VerifyCertificateAsync(setup.ResourceGroup!, setup.DpsName!, root.DpsCertificateName!, verification, cancellationToken).ConfigureAwait(false);
            root.IsVerified = verified.IsVerified;
            if (!verified.IsVerified)
            {
                return Refuse<ProofView>("DPS did not mark the CA as verified.", "Get a new verification code and try again.");
            }

            await RememberVerificationAsync(setup.Id, root.Id, verification, cancellationToken).ConfigureAwait(false);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 8);
            return SetupResult.Ok(await ProofViewAsync(setup, root, verified, cancellationToken).ConfigureAwait(false));
        }, cancellationToken);

    /// <summary>A checked verification certificate (the caller disposes it), the root it proves (tracked) and the code it carries; or why not.</summary>
    private sealed record ManualProofCheck(X509Certificate2? Verification, SetupCertificate? Root, DpsCertificateInfo? Live, string? Code, SetupError? Error);

    /// <summary>
    /// The checks before a verification certificate goes to the DPS, the same when requesting, sending now and applying
    /// an approval: readable, no key in it, the CA uploaded and unverified, the code still the DPS's current one (the
    /// etag read after it was generated), CN exactly that code, signed by this CA, valid now.
    /// </summary>
    private async Task<ManualProofCheck> CheckVerificationAsync(DpsSetup setup, ArmProvisioningClient arm, PortalDbContext db, byte[] certificate, ManualProofPayload? approved, CancellationToken cancellationToken)
    {
        static ManualProofCheck Fail(string message, string whatToDo) => new(null, null, null, null, new SetupError(message, whatToDo));
        if (certificate.Length == 0)
        {
            return Fail("No verification certificate was given.", $"Choose {VerificationCommands.OutputFile} or paste its text.");
        }

        if (certificate.Length > CaImportLimits.MaxFileBytes)
        {
            return Fail(CaImportLimits.TooLarge("verification certificate", certificate.Length), $"Choose {VerificationCommands.OutputFile}.");
        }

        X509Certificate2 verification;
        try
        {
            using var read = CertificateReader.Read(certificate);
            if (read.Key is not null)
            {
                return Fail("The file also holds a private key.", $"Send only the certificate ({VerificationCommands.OutputFile}); keep keys where they are.");
            }

            verification = read.Certificates[0];
        }
        catch (PkiException ex)
        {
            return Fail($"This is not a readable certificate. {ex.Message}", $"Give {VerificationCommands.OutputFile} as made by the commands (PEM), or as DER.");
        }

        var keep = false;
        try
        {
            var (root, live, error) = await ReadUploadedAsync(setup, arm, db, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                return new(null, null, null, null, error);
            }

            if (live!.IsVerified)
            {
                root!.IsVerified = true;
                return Fail($"'{live.Name}' is already verified on the DPS.", "Go on to the enrollment group (step 8).");
            }

            if (approved is not null && CaChanged(root!, approved.ThumbprintSha1) is { } changed)
            {
                return new(null, null, null, null, changed);
            }

            var record = await proofs.ReadAsync(setup.Id, root!.Id, cancellationToken).ConfigureAwait(false);
            if (approved is not null && (record?.Code != approved.Code || record.DpsEtag != live.ETag))
            {
                // The code the approvers saw is no longer the DPS's current one: a newer code (or a new upload) replaced it.
                return Fail($"A new verification code was generated after this request was made, so the approved verification certificate (for code {approved.Code}) no longer counts.",
                    "Ask the requester to sign the new code and request proof of possession again.");
            }

            if (record?.Code is not { } code || record.DpsEtag != live.ETag)
            {
                return Fail(record?.Code is null
                        ? "There is no verification code for this CA yet."
                        : "The verification code was replaced: the certificate changed on the DPS after the code was issued (a newer code, or a new upload).",
                    "Get a verification code, make the verification certificate with it, and send that.");
            }

            var commonName = SubjectNames.GetCommonName(verification);
            if (!string.Equals(commonName, code, StringComparison.Ordinal))
            {
                return Fail($"The certificate's common name is '{commonName ?? "(none)"}', but the current verification code is '{code}'.",
                    $"Make the certificate again with CN={code} exactly (the commands shown use it).");
            }

            using var rootX509 = X509Certificate2.CreateFromPem(root.Pem);
            if (!SignatureVerifier.IsSignedBy(verification, rootX509))
            {
                return Fail($"The verification certificate is signed by a different CA (it names '{verification.Issuer}' as issuer), not by '{rootX509.Subject}'.",
                    $"Sign it with the private key of '{rootX509.Subject}', the CA uploaded to the DPS.");
            }

            var now = Time.GetUtcNow();
            if (now < new DateTimeOffset(verification.NotBefore.ToUniversalTime()) || now > new DateTimeOffset(verification.NotAfter.ToUniversalTime()))
            {
                return Fail($"The verification certificate is only valid from {verification.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} to {verification.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC, not now.",
                    "Make it again (the commands give 30 days) and check the clock of the machine that signs it.");
            }

            keep = true;
            return new(verification, root, live, code, null);
        }
        finally
        {
            if (!keep)
            {
                verification.Dispose();
            }
        }
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
