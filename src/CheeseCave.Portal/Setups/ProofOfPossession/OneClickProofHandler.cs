using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.ProofOfPossession;

/// <summary>
/// Step 7 in one click: DPS generates a code, the portal signs a verification certificate with exactly this CA's key
/// (opened from the protected store, used on the server, never shown) and submits it. The code DPS issued is shown
/// in the progress, kept for step 7's page and written into the audit entry.
/// </summary>
public sealed class OneClickProofHandler(SetupPipeline pipeline, IKeyStore keys, ProofState proofState)
{
    public Task<PortalResult<SetupCertificateView>> VerifyCaAsync(ClaimsPrincipal caller, int setupId, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        VerifyAsync(caller, setupId, new ProveCaPayload(""), null, progress, cancellationToken);

    /// <summary>The change itself: run at once, recorded as a request, or applied once approved (<paramref name="grant"/>; then the root must be the one the approvers saw).</summary>
    internal async Task<PortalResult<SetupCertificateView>> VerifyAsync(ClaimsPrincipal caller, int setupId, ProveCaPayload request, ApprovalGrant? grant, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        string? issuedCode = null;
        var result = await pipeline.RunAsync(new SetupChange<SetupCertificateView>(caller, setupId, AuditActions.SetupCaVerified, "verify the CA", "root CA proof of possession", async (setup, arm, db) =>
        {
            if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return PortalResult.Fail<SetupCertificateView>(new PortalError("This setup has no DPS yet.", "Create or pick one in step 1 first."));
            }

            var root = await db.SetupCertificates.FirstOrDefaultAsync(c => c.Id == setup.RootCertificateId, cancellationToken).ConfigureAwait(false);
            if (root?.DpsCertificateName is not { } certificateName)
            {
                return PortalResult.Fail<SetupCertificateView>(new PortalError("The CA is not uploaded to the DPS yet.", "Upload it in step 6 first."));
            }

            if (SetupCertificates.CaChanged(root, grant is null ? null : request.ThumbprintSha1) is { } changed)
            {
                return PortalResult.Fail<SetupCertificateView>(changed);
            }

            if (root.KeyId is not { } keyId)
            {
                return PortalResult.Fail<SetupCertificateView>(new PortalError("The portal does not hold this CA's private key.", "Sign the verification certificate where the key is kept."));
            }

            progress?.Report("Asking DPS for a verification code");
            var code = await arm.GenerateVerificationCodeAsync(group, dpsName, certificateName, cancellationToken).ConfigureAwait(false);
            issuedCode = code.Code;
            progress?.Report("Signing the verification certificate");
            using var x509 = X509Certificate2.CreateFromPem(root.Pem);
            var key = await keys.OpenAsync(keyId, cancellationToken).ConfigureAwait(false);
            using var credential = CaCredential.Create(x509, key);
            using var verification = new Pki.CertificateAuthority(pipeline.Time).CreateVerificationCertificate(
                new VerificationCertificateRequest(code.Code) { CertificateBeingVerified = x509 }, credential);
            progress?.Report("Submitting the proof to DPS");
            var verified = await arm.VerifyCertificateAsync(group, dpsName, certificateName, verification.Certificate, cancellationToken).ConfigureAwait(false);
            root.IsVerified = verified.IsVerified;
            if (!verified.IsVerified)
            {
                return PortalResult.Fail<SetupCertificateView>(new PortalError("DPS did not mark the CA as verified.", "Try again; if it persists, upload the CA again in step 6."));
            }

            await proofState.RememberVerificationAsync(setup.Id, root.Id, verification.Certificate, code.Code, Actor.From(caller).Name, cancellationToken).ConfigureAwait(false);
            setup.CurrentStep = Math.Max(setup.CurrentStep, 8);
            return PortalResult.Ok(SetupCertificates.ToView(root));
        })
        {
            Request = request,
            Grant = grant,
            SucceededDetail = () => issuedCode is null ? null : $"verification code {issuedCode}",
        }, cancellationToken).ConfigureAwait(false);
        return result;
    }
}
