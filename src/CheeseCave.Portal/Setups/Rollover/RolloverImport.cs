using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>A started rollover to an imported CA; <see cref="HasKey"/> false means the portal cannot sign with it.</summary>
public sealed record RolloverImportResult(int RolloverId, string RootSubject, bool HasKey, IReadOnlyList<string> Warnings);

/// <summary>
/// Rollover step 1 the other way: the new CA imported (a root, or an intermediate with the root above it; PEM, DER or
/// PFX; with or without its key), checked by the same import policy as step 5 (<see cref="CaImportPlanner"/>, as for a
/// setup without a CA) and the rollover's name rules. The key goes only into the protected key store, before the
/// request is recorded or the import runs, so one code path serves both. Without a key the portal can upload the new
/// CA and trust it, but proof of possession is by hand and the devices are re-issued elsewhere.
/// </summary>
public sealed class RolloverImport(SetupPipeline pipeline, IKeyStore keys)
{
    public async Task<PortalResult<RolloverImportResult>> ImportNewCaAsync(ClaimsPrincipal caller, int setupId, CaImportRequest request, RolloverGroupMode groupMode, string? newGroupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await pipeline.RequireChangeAsync(caller, RolloverAuditActions.Started, $"setup {setupId}", cancellationToken).ConfigureAwait(false) is not { } actor)
        {
            return PortalResult.Fail<RolloverImportResult>(PortalError.NotAllowed("start a CA rollover"));
        }

        string? keyId = null;
        PortalResult<RolloverImportResult>? outcome = null;
        try
        {
            ImportRolloverPayload payload;
            await using (var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
            {
                var setup = await db.Setups.AsNoTracking().Include(s => s.Certificates).FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
                if (setup is null)
                {
                    return PortalResult.Fail<RolloverImportResult>(PortalError.NotFound);
                }

                PortalError? problem = null;
                using var material = CaImportReader.CheckSizes(request) is { } tooLarge
                    ? Refuse(new PortalError(tooLarge, "Choose the CA certificate file (PEM, .cer or .pfx)."), out problem)
                    : CaImportReader.Read(request, out problem, cancellationToken);
                using var plan = material is null ? null : CaImportPlanner.Plan(setup, [], material, pipeline.Time.GetUtcNow(), out problem);
                payload = plan is null ? null! : ImportRolloverPayload.From(plan.Path, null, groupMode, newGroupId);
                problem ??= payload.Problem(setup, await OpenAsync(db, setupId, cancellationToken).ConfigureAwait(false));
                if (problem is not null)
                {
                    await pipeline.Audit.WriteAsync(actor, RolloverAuditActions.Started, SetupPipeline.Target(setup), AuditOutcomes.Failed, SetupPipeline.Trim(problem.Message), cancellationToken).ConfigureAwait(false);
                    return PortalResult.Fail<RolloverImportResult>(problem);
                }

                if (material!.Key is { } key)
                {
                    keyId = $"setup-{setupId}/rollover-imported-{Guid.NewGuid():N}";
                    await keys.SaveAsync(keyId, key, cancellationToken).ConfigureAwait(false);
                    payload = payload with { KeyId = keyId };
                }
            }

            outcome = await StartAsync(caller, setupId, payload, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (keyId is not null && outcome is not { IsPending: true } && await StoredKeys.DeleteUnusedAsync(pipeline.Contexts, keyId).ConfigureAwait(false))
            {
                // Neither a request nor a CA holds the key: it must not stay in the store unused.
                await pipeline.Audit.WriteAsync(actor, ApprovalAuditActions.StoredKeyDeleted, keyId, AuditOutcomes.Succeeded, "no rollover or request took it", CancellationToken.None).ConfigureAwait(false);
            }
        }

        return outcome;
    }

    /// <summary>Records the imported generation and the rollover now, as a request, or as the approved request (<paramref name="grant"/>).</summary>
    internal Task<PortalResult<RolloverImportResult>> StartAsync(ClaimsPrincipal caller, int setupId, ImportRolloverPayload request, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        pipeline.RunAsync(new SetupChange<RolloverImportResult>(caller, setupId, RolloverAuditActions.Started, "start a CA rollover", $"imported new CA \"{request.RootSubject}\", {request.GroupMode}", async (setup, _, db) =>
        {
            setup.Certificates = await db.SetupCertificates.Where(c => c.SetupId == setup.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            if (request.Problem(setup, await OpenAsync(db, setup.Id, cancellationToken).ConfigureAwait(false)) is { } problem)
            {
                return PortalResult.Fail<RolloverImportResult>(problem);
            }

            if (request.KeyId is { } keyId && !await keys.ExistsAsync(keyId, cancellationToken).ConfigureAwait(false))
            {
                return PortalResult.Fail<RolloverImportResult>(new PortalError("The private key stored with this request is no longer in the portal's key store.", "Import the new CA again with its key."));
            }

            var path = request.PathPem.Select(pem => X509Certificate2.CreateFromPem(pem)).ToList();
            try
            {
                var actor = Actor.From(caller);
                var root = Store(db, setup, SetupCertificateKind.Root, path[^1], path.Count == 1 ? request.KeyId : null, actor, grant);
                if (path.Count == 2)
                {
                    Store(db, setup, SetupCertificateKind.Intermediate, path[0], request.KeyId, actor, grant);
                }

                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                var rollover = RolloverStartHandler.Open(setup, root, request.GroupMode, request.NewGroupId, grant?.RequestedBy ?? actor.Name, pipeline.Time.GetUtcNow());
                db.CaRollovers.Add(rollover);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                var warnings = CertificateLinter.Lint(path, pipeline.Time).Findings.Where(f => f.Severity != FindingSeverity.Info).Select(f => f.Message).ToList();
                return PortalResult.Ok(new RolloverImportResult(rollover.Id, root.Subject, request.KeyId is not null, warnings));
            }
            finally
            {
                path.ForEach(c => c.Dispose());
            }
        }) { Request = request, Grant = grant }, cancellationToken);

    private static Task<bool> OpenAsync(PortalDbContext db, int setupId, CancellationToken cancellationToken) =>
        db.CaRollovers.AnyAsync(r => r.SetupId == setupId && r.FinishedAt == null, cancellationToken);

    private static ImportMaterial? Refuse(PortalError error, out PortalError? problem)
    {
        problem = error;
        return null;
    }

    private SetupCertificate Store(PortalDbContext db, DpsSetup setup, SetupCertificateKind kind, X509Certificate2 certificate, string? keyId, Actor actor, ApprovalGrant? grant)
    {
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
        return entity;
    }
}

/// <summary>
/// A request to start a rollover to an imported CA: its path (the CA first, up to its self-signed root; public parts
/// only) and, when it came with its key, the id that key is stored under.
/// </summary>
[ApprovalPayloadKind("rollover-import")]
public sealed record ImportRolloverPayload(IReadOnlyList<string> PathPem, string RootSubject, string? IntermediateSubject, string ThumbprintSha1, string? KeyId, RolloverGroupMode GroupMode, string? NewGroupId) : SetupPayload
{
    public override ApprovalAction Action => ApprovalAction.ImportCa;

    // Starting a rollover by generating is gated by CreateCa: importing is gated by either.
    public override IReadOnlyList<ApprovalAction> Actions => [ApprovalAction.ImportCa, ApprovalAction.CreateCa];

    public override string? StoredKeyId => KeyId;

    public static ImportRolloverPayload From(IReadOnlyList<X509Certificate2> path, string? keyId, RolloverGroupMode groupMode, string? newGroupId)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new([.. path.Select(CertificateExport.ToPem)], path[^1].Subject, path.Count == 2 ? path[0].Subject : null, path[0].Thumbprint, keyId, groupMode,
            groupMode == RolloverGroupMode.NewGroup ? newGroupId?.Trim() : null);
    }

    /// <summary>Why this import cannot start a rollover on <paramref name="setup"/> (loaded with its certificates), or null.</summary>
    public PortalError? Problem(DpsSetup setup, bool rolloverOpen)
    {
        ArgumentNullException.ThrowIfNull(setup);
        if (rolloverOpen)
        {
            return new PortalError("A rollover of this setup is already under way.", "Continue it on the rollover page; a new one can start once its old CA is retired.");
        }

        if (this.PathPem.Count > 2)
        {
            return new PortalError($"This CA is {this.PathPem.Count - 1} levels below its root; a setup keeps a root and one intermediate.", "Import the intermediate that the root signed directly, or the root itself.");
        }

        if (setup.Certificates.Any(c => string.Equals(c.ThumbprintSha1, this.ThumbprintSha1, StringComparison.OrdinalIgnoreCase)))
        {
            return new PortalError("This CA is already one of this setup's CAs.", "Import the new CA, not the one it replaces.");
        }

        // The same rules as a generated new CA: a verified CA to replace, names of its own, a valid new group id.
        return new StartRolloverPayload(this.RootSubject, this.IntermediateSubject, ProfilePreset.Recommended, this.GroupMode, this.NewGroupId).Problem(setup);
    }

    public override SetupRequestPlan Plan(DpsSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        if (Problem(setup, false) is { } problem)
        {
            return SetupRequestPlan.Refuse(problem);
        }

        var facts = SetupCertificates.StartFacts(setup);
        var old = SetupCertificates.RootOf(setup)!;
        facts.Add(new("Replaces", $"root CA {old.Subject}, SHA-1 {old.ThumbprintSha1}, valid until {old.NotAfter:yyyy-MM-dd}"));
        using var ca = X509Certificate2.CreateFromPem(this.PathPem[0]);
        facts.Add(new("New root CA", this.RootSubject));
        if (this.IntermediateSubject is { } intermediate)
        {
            facts.Add(new("New intermediate CA", intermediate));
        }

        facts.Add(new("Imported CA", $"{ca.Subject}, SHA-1 {this.ThumbprintSha1}, valid {ca.NotBefore.ToUniversalTime():yyyy-MM-dd} to {ca.NotAfter.ToUniversalTime():yyyy-MM-dd}"));
        facts.Add(new("Private key", this.KeyId is null
            ? "Certificate only: proof of possession by hand, and the devices are re-issued where the key is kept"
            : "With private key (kept encrypted in the portal); it signs the re-issued devices"));
        facts.Add(new("Enrollment", this.GroupMode == RolloverGroupMode.SwapInGroup
            ? $"group {setup.EnrollmentGroupId} gets the new CA as its secondary CA, later as its only one"
            : $"a new group {this.NewGroupId} with the settings of {setup.EnrollmentGroupId} trusts the new CA; {setup.EnrollmentGroupId} is deleted at the end"));
        return SetupRequestPlan.Ask(this, $"Start a CA rollover of {setup.Name} to the imported \"{SetupCertificates.ShortName(this.RootSubject)}\"", facts);
    }
}

/// <summary>Applies an approved import-rollover as the approver, through the same code path.</summary>
public sealed class ImportRolloverApproval(RolloverImport import) : ApprovalHandler<ImportRolloverPayload>
{
    protected override async Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, ImportRolloverPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        SetupApprovalOutcome.Of(setupId is { } id ? await import.StartAsync(approver, id, payload, grant, cancellationToken).ConfigureAwait(false) : null,
            result => new($"Imported the new CA {SetupCertificates.ShortName(result.RootSubject)} {(result.HasKey ? "with its key" : "without its key")}; the rollover can go on.", $"setups/{setupId}/rollover", "Open the rollover"));
}
