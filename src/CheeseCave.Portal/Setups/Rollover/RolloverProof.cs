using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.CertificateAuthority;
using CheeseCave.Portal.Setups.Pipeline;
using CheeseCave.Portal.Setups.ProofOfPossession;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>The new CA's verification code as the page shows it (null when none was asked for yet), with the commands that sign it.</summary>
public sealed record RolloverProofView(string? Code, DateTimeOffset? GeneratedAt, string? GeneratedBy, string? Commands);

/// <summary>
/// Rollover step 3 by hand, for a new CA whose key is kept elsewhere (or when the user prefers it): a verification code
/// from the DPS for the new root (kept like step 7's, with the DPS etag that tells whether it is still current), and a
/// verification certificate signed elsewhere, checked (readable, no key, CN exactly the code, signed by the new root,
/// valid now) before it is recorded for approval or sent to the DPS, and checked again, live, when it is sent.
/// </summary>
public sealed class RolloverProof(RolloverStepRunner runner, SetupProofStore proofs)
{
    public async Task<PortalResult<RolloverProofView>> GetVerificationCodeAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default)
    {
        if (await runner.Pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<RolloverProofView>(PortalError.NotAllowed("read setups"));
        }

        if (await NewRootAsync(setupId, cancellationToken).ConfigureAwait(false) is not { } root)
        {
            return PortalResult.Fail<RolloverProofView>(new PortalError("This setup has no open rollover.", "Start a rollover first."));
        }

        return PortalResult.Ok(View(root, await proofs.ReadAsync(setupId, root.Id, cancellationToken).ConfigureAwait(false)));
    }

    /// <summary>Asks the DPS for a verification code for the new root (replacing any earlier one) and remembers it.</summary>
    public Task<PortalResult<RolloverProofView>> GenerateVerificationCodeAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default) =>
        runner.Pipeline.RunAsync(new SetupChange<RolloverProofView>(caller, setupId, RolloverAuditActions.Verified, "get a verification code", "verification code for the new root CA", async (setup, arm, db) =>
        {
            var rollover = await db.CaRollovers.AsNoTracking().FirstOrDefaultAsync(r => r.SetupId == setup.Id && r.FinishedAt == null, cancellationToken).ConfigureAwait(false);
            if (rollover is null)
            {
                return PortalResult.Fail<RolloverProofView>(new PortalError("This setup has no open rollover.", "Start a rollover first."));
            }

            if (RolloverRules.Check(rollover, RolloverStep.Prove) is { } problem)
            {
                return PortalResult.Fail<RolloverProofView>(problem);
            }

            var root = await db.SetupCertificates.AsNoTracking().FirstAsync(c => c.Id == rollover.NewRootId, cancellationToken).ConfigureAwait(false);
            var code = await arm.GenerateVerificationCodeAsync(setup.ResourceGroup!, setup.DpsName!, root.DpsCertificateName!, cancellationToken).ConfigureAwait(false);
            // Read again: the etag of a plain read is what the check before sending compares with.
            var after = await arm.GetCertificateAsync(setup.ResourceGroup!, setup.DpsName!, root.DpsCertificateName!, cancellationToken).ConfigureAwait(false) ?? code.Certificate;
            var by = Actor.From(caller).Name;
            var record = await proofs.UpdateAsync(setup.Id, root.Id, previous => new ProofRecord(code.Code, after.ETag, after.Thumbprint, runner.Pipeline.Time.GetUtcNow(), by,
                previous?.VerificationPem, previous?.VerifiedAt), cancellationToken).ConfigureAwait(false);
            return PortalResult.Ok(View(root, record));
        }), cancellationToken);

    /// <summary>The user's verification certificate for the new root: checked now, then sent (or recorded for approval).</summary>
    public async Task<PortalResult<RolloverStage>> SubmitVerificationCertificateAsync(ClaimsPrincipal caller, int setupId, byte[] certificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var root = await NewRootAsync(setupId, cancellationToken).ConfigureAwait(false);
        var record = root is null ? null : await proofs.ReadAsync(setupId, root.Id, cancellationToken).ConfigureAwait(false);
        var (pem, problem) = Check(certificate, root, record?.Code, runner.Pipeline.Time.GetUtcNow());
        if (problem is not null && await runner.Pipeline.RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false) is { } actor)
        {
            await runner.Pipeline.Audit.WriteAsync(actor, RolloverAuditActions.Verified, $"setup {setupId}", AuditOutcomes.Failed, SetupPipeline.Trim($"verification certificate refused: {problem.Message}"), cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<RolloverStage>(problem);
        }

        // A caller without the role gets the plain refusal (and its audit) from the runner.
        return await ProveManuallyAsync(caller, setupId, new RolloverStepPayload(RolloverStep.Prove, VerificationPem: pem ?? "", VerificationCode: record?.Code), null, cancellationToken).ConfigureAwait(false);
    }

    internal Task<PortalResult<RolloverStage>> ProveManuallyAsync(ClaimsPrincipal caller, int setupId, RolloverStepPayload request, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        runner.RunAsync(caller, setupId, request, grant, async context =>
        {
            var root = context.NewRoot;
            var record = await proofs.ReadAsync(context.Setup.Id, root.Id, cancellationToken).ConfigureAwait(false);
            var live = await context.Arm.GetCertificateAsync(context.ResourceGroup, context.DpsName, root.DpsCertificateName!, cancellationToken).ConfigureAwait(false);
            if (record?.Code is null || live is null || record.DpsEtag != live.ETag || record.Code != request.VerificationCode)
            {
                // A newer code (or a new upload) replaced the one this certificate was made for.
                return PortalResult.Fail<RolloverStage>(new PortalError("The verification code this certificate was made for is no longer the DPS's current one.",
                    "Get a new verification code, sign it again and send the new verification certificate."));
            }

            var (_, problem) = Check(System.Text.Encoding.ASCII.GetBytes(request.VerificationPem!), root, record.Code, runner.Pipeline.Time.GetUtcNow());
            if (problem is not null)
            {
                return PortalResult.Fail<RolloverStage>(problem);
            }

            using var verification = X509Certificate2.CreateFromPem(request.VerificationPem);
            var verified = await context.Arm.VerifyCertificateAsync(context.ResourceGroup, context.DpsName, root.DpsCertificateName!, verification, cancellationToken).ConfigureAwait(false);
            root.IsVerified = verified.IsVerified;
            if (!verified.IsVerified)
            {
                return PortalResult.Fail<RolloverStage>(new PortalError("DPS did not mark the new CA as verified.", "Get a new verification code and try again."));
            }

            await proofs.UpdateAsync(context.Setup.Id, root.Id, previous => (previous ?? record) with { VerificationPem = request.VerificationPem, VerifiedAt = runner.Pipeline.Time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
            return PortalResult.Ok(RolloverStage.Verified);
        }, cancellationToken);

    /// <summary>The certificate as PEM when it proves the new root for <paramref name="code"/>; otherwise why not, in one sentence.</summary>
    private static (string? Pem, PortalError? Problem) Check(byte[] certificate, SetupCertificate? root, string? code, DateTimeOffset now)
    {
        static (string?, PortalError?) Fail(string message, string whatToDo) => (null, new PortalError(message, whatToDo));
        if (root is null)
        {
            return Fail("This setup has no open rollover.", "Start a rollover first.");
        }

        if (certificate.Length == 0 || certificate.Length > CaImportLimits.MaxFileBytes)
        {
            return Fail(certificate.Length == 0 ? "No verification certificate was given." : CaImportLimits.TooLarge("verification certificate", certificate.Length),
                $"Choose {VerificationCommands.OutputFile}, made with the commands shown.");
        }

        if (code is null)
        {
            return Fail("There is no verification code for the new CA yet.", "Get a verification code, sign it where the new CA's key is kept, then send the certificate.");
        }

        X509Certificate2 verification;
        try
        {
            using var read = CertificateReader.Read(certificate);
            if (read.Key is not null)
            {
                return Fail("The file also holds a private key.", $"Send only the certificate ({VerificationCommands.OutputFile}); keep keys where they are.");
            }

            verification = X509CertificateLoader.LoadCertificate(read.Certificates[0].RawData);
        }
        catch (PkiException ex)
        {
            return Fail($"This is not a readable certificate. {ex.Message}", $"Give {VerificationCommands.OutputFile} as made by the commands (PEM), or as DER.");
        }

        using (verification)
        {
            var commonName = SubjectNames.GetCommonName(verification);
            if (!string.Equals(commonName, code, StringComparison.Ordinal))
            {
                return Fail($"The certificate's common name is '{commonName ?? "(none)"}', but the new CA's current verification code is '{code}'.",
                    $"Make the certificate again with CN={code} exactly (the commands shown use it).");
            }

            using var rootX509 = X509Certificate2.CreateFromPem(root.Pem);
            if (!SignatureVerifier.IsSignedBy(verification, rootX509))
            {
                return Fail($"The verification certificate is signed by another CA (it names '{verification.Issuer}' as issuer), not by the new root '{rootX509.Subject}'.",
                    $"Sign it with the private key of '{rootX509.Subject}'.");
            }

            if (now < new DateTimeOffset(verification.NotBefore.ToUniversalTime()) || now > new DateTimeOffset(verification.NotAfter.ToUniversalTime()))
            {
                return Fail($"The verification certificate is only valid from {verification.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} to {verification.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC, not now.",
                    "Make it again and check the clock of the machine that signs it.");
            }

            return (CertificateExport.ToPem(verification), null);
        }
    }

    private async Task<SetupCertificate?> NewRootAsync(int setupId, CancellationToken cancellationToken)
    {
        await using var db = await runner.Pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rollover = await db.CaRollovers.AsNoTracking().FirstOrDefaultAsync(r => r.SetupId == setupId && r.FinishedAt == null, cancellationToken).ConfigureAwait(false);
        return rollover is null ? null : await db.SetupCertificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == rollover.NewRootId, cancellationToken).ConfigureAwait(false);
    }

    private static RolloverProofView View(SetupCertificate root, ProofRecord? record) =>
        new(record?.Code, record?.CodeGeneratedAt, record?.CodeGeneratedBy, record?.Code is { } code ? VerificationCommands.For(code, SetupCertificates.FileNameFor(root) + ".pem") : null);
}
