using System.Security.Claims;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Provisioning.Errors;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.ProofOfPossession;

/// <summary>
/// Step 7 by hand, for a CA whose key stays elsewhere: the live state, a verification code from the DPS, and the
/// user's verification certificate checked (<see cref="VerificationCheck"/>) before it is sent, or recorded as a
/// request when proof of possession needs approval.
/// </summary>
public sealed class ManualProofHandler(SetupPipeline pipeline, ProofState proofState, VerificationCheck check)
{
    /// <summary>
    /// The uploaded CA as the DPS reports it now, and the last verification code while it is still the current one.
    /// The database's verified flag follows the DPS (it may have been verified elsewhere, e.g. with the az CLI).
    /// </summary>
    public async Task<PortalResult<ProofView>> GetProofAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<ProofView>(PortalError.NotAllowed("see setups"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return PortalResult.Fail<ProofView>(PortalError.NotFound);
        }

        try
        {
            var (root, live, error) = await ProofState.ReadUploadedAsync(setup, pipeline.Provisioning.CreateArmClient(caller), db, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                return PortalResult.Fail<ProofView>(error);
            }

            if (root!.IsVerified != live!.IsVerified)
            {
                root.IsVerified = live.IsVerified;
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }

            return PortalResult.Ok(await proofState.ViewAsync(setup, root, live, cancellationToken).ConfigureAwait(false));
        }
        catch (ProvisioningException ex)
        {
            return PortalResult.Fail<ProofView>(PortalError.From(ex));
        }
    }

    /// <summary>Asks the DPS for a new verification code (replacing any earlier one) and remembers it for this CA.</summary>
    public Task<PortalResult<ProofView>> GenerateVerificationCodeAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default) =>
        pipeline.RunAsync(new SetupChange<ProofView>(caller, setupId, CaImportAuditActions.VerificationCodeGenerated, "get a verification code", "verification code for the root CA", async (setup, arm, db) =>
        {
            var (root, live, error) = await ProofState.ReadUploadedAsync(setup, arm, db, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                return PortalResult.Fail<ProofView>(error);
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
            await proofState.Proofs.UpdateAsync(setup.Id, root.Id, previous => new ProofRecord(code.Code, after.ETag, after.Thumbprint, pipeline.Time.GetUtcNow(), actor.Name,
                previous?.VerificationPem, previous?.VerifiedAt), cancellationToken).ConfigureAwait(false);
            return PortalResult.Ok(await proofState.ViewAsync(setup, root, after, cancellationToken).ConfigureAwait(false));
        }), cancellationToken);

    /// <summary>
    /// Manual proof of possession: checks the user's verification certificate (readable, CN exactly the current
    /// code, signed by this CA, in its validity period) and only then sends it to the DPS, or, when proof of possession
    /// needs approval, records a request carrying the certificate and the code it was made for.
    /// </summary>
    public async Task<PortalResult<ProofView>> SubmitVerificationCertificateAsync(ClaimsPrincipal caller, int setupId, ManualProofRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!pipeline.Approvals.Requires(ApprovalAction.ProveCa))
        {
            return await SubmitAsync(caller, setupId, request.VerificationCertificate, null, null, cancellationToken).ConfigureAwait(false);
        }

        var actor = await pipeline.RequireChangeAsync(caller, CaImportAuditActions.VerificationSubmitted, $"setup {setupId}", cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<ProofView>(PortalError.NotAllowed("verify the CA"));
        }

        ManualProofPayload payload;
        await using (var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            var setup = await db.Setups.FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
            if (setup is null)
            {
                return PortalResult.Fail<ProofView>(PortalError.NotFound);
            }

            ManualProofCheck checkedProof;
            try
            {
                checkedProof = await check.CheckAsync(setup, pipeline.Provisioning.CreateArmClient(caller), db, request.VerificationCertificate, null, cancellationToken).ConfigureAwait(false);
            }
            catch (ProvisioningException ex)
            {
                checkedProof = new ManualProofCheck(null, null, null, null, PortalError.From(ex));
            }

            if (checkedProof.Error is { } problem)
            {
                await pipeline.Audit.WriteAsync(actor, CaImportAuditActions.VerificationSubmitted, SetupPipeline.Target(setup), AuditOutcomes.Failed, SetupPipeline.Trim($"approval request refused: {problem.Message}"), cancellationToken).ConfigureAwait(false);
                return PortalResult.Fail<ProofView>(problem);
            }

            using var verification = checkedProof.Verification!;
            payload = new ManualProofPayload(checkedProof.Root!.ThumbprintSha1, CertificateExport.ToPem(verification), checkedProof.Code!);
        }

        return await pipeline.RecordRequestAsync<ProofView>(actor, setupId, payload, CaImportAuditActions.VerificationSubmitted, "verify the CA", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a checked verification certificate to the DPS now, or applies an approved one (<paramref name="approved"/>: the certificate and code the approvers saw; a newer code is refused).</summary>
    internal Task<PortalResult<ProofView>> SubmitAsync(ClaimsPrincipal caller, int setupId, byte[] certificate, ManualProofPayload? approved, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        pipeline.RunAsync(new SetupChange<ProofView>(caller, setupId, CaImportAuditActions.VerificationSubmitted, "verify the CA", "verification certificate for the root CA", async (setup, arm, db) =>
        {
            var checkedProof = await check.CheckAsync(setup, arm, db, certificate, approved, cancellationToken).ConfigureAwait(false);
            if (checkedProof.Error is { } problem)
            {
                return PortalResult.Fail<ProofView>(problem);
            }

            using var verification = checkedProof.Verification!;
            var root = checkedProof.Root!;
            var verified = await arm.VerifyCertificateAsync(setup.ResourceGroup!, setup.DpsName!, root.DpsCertificateName!, verification, cancellationToken).ConfigureAwait(false);
            root.IsVerified = verified.IsVerified;
            if (!verified.IsVerified)
            {
                return Refuse<ProofView>("DPS did not mark the CA as verified.", "Get a new verification code and try again.");
            }

            await proofState.RememberVerificationAsync(setup.Id, root.Id, verification, null, null, cancellationToken).ConfigureAwait(false);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 8);
            return PortalResult.Ok(await proofState.ViewAsync(setup, root, verified, cancellationToken).ConfigureAwait(false));
        }) { Grant = grant }, cancellationToken);

    private static PortalResult<T> Refuse<T>(string message, string whatToDo) => PortalResult.Fail<T>(new PortalError(message, whatToDo));
}
