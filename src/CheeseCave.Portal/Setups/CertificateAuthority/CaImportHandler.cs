using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

/// <summary>
/// Step 5, the other way: an existing CA imported, with or without its key, checked by one import policy
/// (<see cref="CaImportPlanner"/>). Keys go only into the protected key store.
/// </summary>
public sealed class CaImportHandler(SetupPipeline pipeline, IKeyStore keys)
{
    /// <summary>
    /// Imports an existing root CA, or an intermediate with its issuer chain (in the file, in <see cref="CaImportRequest.Chain"/>
    /// or the setup's root). The key, when given, goes only into the protected key store. Each refusal says why in
    /// plain words; linter findings come back as warnings. When imports need approval, everything is checked now, the
    /// key (if any) is stored encrypted under a new id, and a request carrying only public parts and that id is recorded.
    /// </summary>
    public async Task<PortalResult<CaImportResult>> ImportCaAsync(ClaimsPrincipal caller, int setupId, CaImportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return pipeline.Approvals.Requires(ApprovalAction.ImportCa)
            ? await RequestImportAsync(caller, setupId, request, cancellationToken).ConfigureAwait(false)
            : await ImportAsync(caller, setupId, request, null, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Imports now: from the user's files, or (when applying an approved request) from its public parts and stored key id.</summary>
    internal Task<PortalResult<CaImportResult>> ImportAsync(ClaimsPrincipal caller, int setupId, CaImportRequest? request, ImportCaPayload? approved, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        pipeline.RunAsync(new SetupChange<CaImportResult>(caller, setupId, CaImportAuditActions.CaImported, "import a CA", "import a CA", async (setup, _, db) =>
        {
            if (request is not null && CaImportReader.CheckSizes(request) is { } tooLarge)
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

                if (approved.KeyId is { } keyId && !await keys.ExistsAsync(keyId, cancellationToken).ConfigureAwait(false))
                {
                    return Refuse<CaImportResult>("The private key stored with this request is no longer in the portal's key store.", "Make the import request again with the key.");
                }
            }

            PortalError? readError;
            using var material = approved is null ? CaImportReader.Read(request!, out readError, cancellationToken) : CaImportReader.ReadApproved(approved, out readError);
            if (material is null)
            {
                return PortalResult.Fail<CaImportResult>(readError!);
            }

            using var plan = CaImportPlanner.Plan(setup, existing, material, pipeline.Time.GetUtcNow(), out var problem);
            if (plan is null)
            {
                return PortalResult.Fail<CaImportResult>(problem!);
            }

            var ca = material.Certificate;
            var path = plan.Path;
            var actor = Actor.From(caller);
            SetupCertificate imported;
            if (plan.ExistingRoot is null && path.Count == 1)
            {
                imported = await StoreImportedAsync(db, setup, SetupCertificateKind.Root, ca, material, actor, grant, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                setup.RootCertificateId = imported.Id;
            }
            else if (plan.ExistingRoot is null)
            {
                // The root comes from the chain (public only); the portal holds at most the intermediate's key.
                var root = await StoreImportedAsync(db, setup, SetupCertificateKind.Root, path[1], null, actor, grant, cancellationToken).ConfigureAwait(false);
                imported = await StoreImportedAsync(db, setup, SetupCertificateKind.Intermediate, ca, material, actor, grant, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                setup.RootCertificateId = root.Id;
            }
            else
            {
                imported = await StoreImportedAsync(db, setup, SetupCertificateKind.Intermediate, ca, material, actor, grant, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }

            setup.CurrentStep = Math.Max(setup.CurrentStep, 6);
            var warnings = CertificateLinter.Lint(path, pipeline.Time).Findings
                .Where(f => f.Severity != FindingSeverity.Info).Select(f => f.Message).ToList();
            return PortalResult.Ok(new CaImportResult(SetupCertificates.ToView(imported), warnings));
        }) { Grant = grant }, cancellationToken);

    /// <summary>
    /// The gated import: the same checks as an import now, then the key (if any) into the protected key store under a
    /// new id, then the request. If no request results (refused, cancelled, an error), the stored key is deleted again.
    /// </summary>
    private async Task<PortalResult<CaImportResult>> RequestImportAsync(ClaimsPrincipal caller, int setupId, CaImportRequest request, CancellationToken cancellationToken)
    {
        var actor = await pipeline.RequireChangeAsync(caller, CaImportAuditActions.CaImported, $"setup {setupId}", cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<CaImportResult>(PortalError.NotAllowed("import a CA"));
        }

        if (await pipeline.Approvals.FindPendingAsync(setupId, ApprovalAction.ImportCa, cancellationToken).ConfigureAwait(false) is { } open)
        {
            return Refuse<CaImportResult>($"A request to import a CA is already waiting for approval (#{open.RequestId}: {open.Title}).",
                "Wait for it to be decided, or cancel it on its page and ask again.");
        }

        string? keyId = null;
        PortalResult<CaImportResult>? outcome = null;
        try
        {
            ImportCaPayload payload;
            await using (var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
            {
                var setup = await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
                if (setup is null)
                {
                    return PortalResult.Fail<CaImportResult>(PortalError.NotFound);
                }

                var existing = await db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == setupId).ToListAsync(cancellationToken).ConfigureAwait(false);
                PortalError? problem = null;
                ImportMaterial? material = null;
                if (CaImportReader.CheckSizes(request) is { } tooLarge)
                {
                    problem = new PortalError(tooLarge, "Choose the CA certificate file (PEM, .cer or .pfx).");
                }
                else
                {
                    material = CaImportReader.Read(request, out problem, cancellationToken);
                }

                using (material)
                {
                    using var plan = material is null ? null : CaImportPlanner.Plan(setup, existing, material, pipeline.Time.GetUtcNow(), out problem);
                    if (plan is null)
                    {
                        await pipeline.Audit.WriteAsync(actor, CaImportAuditActions.CaImported, SetupPipeline.Target(setup), AuditOutcomes.Failed, SetupPipeline.Trim($"approval request refused: {problem!.Message}"), cancellationToken).ConfigureAwait(false);
                        return PortalResult.Fail<CaImportResult>(problem);
                    }

                    var ca = material!.Certificate;
                    var kind = plan.ExistingRoot is null && plan.Path.Count == 1 ? SetupCertificateKind.Root : SetupCertificateKind.Intermediate;
                    if (material.Key is { } key)
                    {
                        keyId = ImportedKeyId(setup.Id, kind);
                        await keys.SaveAsync(keyId, key, cancellationToken).ConfigureAwait(false);
                    }

                    payload = new ImportCaPayload(CertificateExport.ToPem(ca), [.. plan.Path.Skip(1).Select(CertificateExport.ToPem)], keyId,
                        ca.Thumbprint, Convert.ToHexString(ca.GetCertHash(HashAlgorithmName.SHA256)), plan.ExistingRoot?.ThumbprintSha1);
                }
            }

            outcome = await pipeline.RecordRequestAsync<CaImportResult>(actor, setupId, payload, CaImportAuditActions.CaImported, "import a CA", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (keyId is not null && outcome is not { IsPending: true })
            {
                // No request holds the key: it must not stay in the store unused.
                if (await StoredKeys.DeleteUnusedAsync(pipeline.Contexts, keyId).ConfigureAwait(false))
                {
                    await pipeline.Audit.WriteAsync(actor, ApprovalAuditActions.StoredKeyDeleted, keyId, AuditOutcomes.Succeeded, "no approval request was recorded for it", CancellationToken.None).ConfigureAwait(false);
                }
            }
        }

        return outcome;
    }

    private static string ImportedKeyId(int setupId, SetupCertificateKind kind) => $"setup-{setupId}/{kind.ToString().ToLowerInvariant()}-imported-{Guid.NewGuid():N}";

    private async Task<SetupCertificate> StoreImportedAsync(PortalDbContext db, DpsSetup setup, SetupCertificateKind kind, X509Certificate2 certificate, ImportMaterial? material, Actor actor, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var note = grant?.AuditNote;
        // An approved request brings the id its key was stored under when it was requested; an import now stores it here.
        var keyId = material?.StoredKeyId;
        if (material?.Key is { } key)
        {
            keyId = ImportedKeyId(setup.Id, kind);
            await keys.SaveAsync(keyId, key, cancellationToken).ConfigureAwait(false);
        }

        var entity = new SetupCertificate
        {
            SetupId = setup.Id,
            Kind = kind,
            KeyId = keyId,
            CreatedBy = grant?.RequestedBy ?? actor.Name,
            CreatedAt = pipeline.Time.GetUtcNow(),
            IsImported = true,
            ApprovedBy = CertificateFacts.ApproversOf(grant),
        };
        CertificateFacts.Fill(entity, certificate);
        db.SetupCertificates.Add(entity);
        var detail = $"{kind} '{certificate.Subject}' SHA-1 {certificate.Thumbprint}, {(keyId is null ? "without key" : "key stored encrypted")}";
        await pipeline.Audit.WriteAsync(actor, CaImportAuditActions.CaImported, SetupPipeline.Target(setup), AuditOutcomes.Succeeded,
            SetupPipeline.Trim(note is null ? detail : $"{detail}; {note}"), cancellationToken).ConfigureAwait(false);
        return entity;
    }

    private static PortalResult<T> Refuse<T>(string message, string whatToDo) => PortalResult.Fail<T>(new PortalError(message, whatToDo));
}
