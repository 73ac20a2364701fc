using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>
/// Rollover steps 2 and 3: the new root goes to the DPS (public part only) and the portal proves it holds its key
/// (DPS's verification code signed on the server, the key never leaves it). The setup's current root is untouched:
/// the old generation keeps working meanwhile.
/// </summary>
public sealed class RolloverCaSteps(RolloverStepRunner runner, IKeyStore keys)
{
    public Task<PortalResult<RolloverStage>> UploadNewCaAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default) =>
        UploadAsync(caller, setupId, new RolloverStepPayload(RolloverStep.Upload), null, cancellationToken);

    public Task<PortalResult<RolloverStage>> ProveNewCaAsync(ClaimsPrincipal caller, int setupId, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        ProveAsync(caller, setupId, new RolloverStepPayload(RolloverStep.Prove), null, progress, cancellationToken);

    internal Task<PortalResult<RolloverStage>> UploadAsync(ClaimsPrincipal caller, int setupId, RolloverStepPayload request, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        runner.RunAsync(caller, setupId, request, grant, async context =>
        {
            var root = context.NewRoot;
            using var x509 = X509Certificate2.CreateFromPem(root.Pem);
            var name = root.DpsCertificateName ?? SetupCertificates.FileNameFor(root);
            // Uploading again under the same name (a retry, or after a restart) replaces the same certificate.
            var uploaded = await context.Arm.UploadCertificateAsync(context.ResourceGroup, context.DpsName, name, x509, isVerified: false, cancellationToken).ConfigureAwait(false);
            root.DpsCertificateName = uploaded.Name;
            root.IsVerified = uploaded.IsVerified;
            return PortalResult.Ok(RolloverStage.Uploaded);
        }, cancellationToken);

    internal Task<PortalResult<RolloverStage>> ProveAsync(ClaimsPrincipal caller, int setupId, RolloverStepPayload request, ApprovalGrant? grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        runner.RunAsync(caller, setupId, request, grant, async context =>
        {
            var root = context.NewRoot;
            if (root.KeyId is not { } keyId)
            {
                return PortalResult.Fail<RolloverStage>(new PortalError("The portal does not hold the new CA's private key.", "Prove possession where the key is kept."));
            }

            progress?.Report("Asking DPS for a verification code");
            var code = await context.Arm.GenerateVerificationCodeAsync(context.ResourceGroup, context.DpsName, root.DpsCertificateName!, cancellationToken).ConfigureAwait(false);
            progress?.Report("Signing the verification certificate");
            using var x509 = X509Certificate2.CreateFromPem(root.Pem);
            var key = await keys.OpenAsync(keyId, cancellationToken).ConfigureAwait(false);
            using var credential = CaCredential.Create(x509, key);
            using var verification = new Pki.CertificateAuthority(runner.Pipeline.Time).CreateVerificationCertificate(
                new VerificationCertificateRequest(code.Code) { CertificateBeingVerified = x509 }, credential);
            progress?.Report("Submitting the proof to DPS");
            var verified = await context.Arm.VerifyCertificateAsync(context.ResourceGroup, context.DpsName, root.DpsCertificateName!, verification.Certificate, cancellationToken).ConfigureAwait(false);
            root.IsVerified = verified.IsVerified;
            return verified.IsVerified
                ? PortalResult.Ok(RolloverStage.Verified)
                : PortalResult.Fail<RolloverStage>(new PortalError("DPS did not mark the new CA as verified.", "Try again; if it persists, upload it again."));
        }, cancellationToken);
}
