using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Upload;

/// <summary>
/// Step 6: uploads the setup's root CA certificate (public part only) to its DPS: unverified, or, when the user chose
/// it explicitly, verified on upload (DPS then trusts it without proof of possession, so that choice is gated like
/// proof of possession).
/// </summary>
public sealed class UploadHandler(SetupPipeline pipeline)
{
    public Task<PortalResult<SetupCertificateView>> UploadCaAsync(ClaimsPrincipal caller, int setupId, bool verifiedOnUpload = false, CancellationToken cancellationToken = default) =>
        UploadAsync(caller, setupId, new UploadCaPayload("", verifiedOnUpload), null, cancellationToken);

    /// <summary>The change itself: run at once, recorded as a request, or applied once approved (<paramref name="grant"/>; then the root must be the one the approvers saw).</summary>
    internal Task<PortalResult<SetupCertificateView>> UploadAsync(ClaimsPrincipal caller, int setupId, UploadCaPayload request, ApprovalGrant? grant, CancellationToken cancellationToken) =>
        pipeline.RunAsync(new SetupChange<SetupCertificateView>(caller, setupId, AuditActions.SetupCaUploaded, "upload the CA", request.VerifiedOnUpload ? "root CA, marked verified on upload" : "root CA", async (setup, arm, db) =>
        {
            if (setup is not { ResourceGroup: { } group, DpsName: { } dpsName })
            {
                return PortalResult.Fail<SetupCertificateView>(new PortalError("This setup has no DPS yet.", "Create or pick one in step 1 first."));
            }

            var root = await db.SetupCertificates.FirstOrDefaultAsync(c => c.Id == setup.RootCertificateId, cancellationToken).ConfigureAwait(false);
            if (root is null)
            {
                return PortalResult.Fail<SetupCertificateView>(new PortalError("This setup has no CA yet.", "Generate it in step 5 first."));
            }

            if (SetupCertificates.CaChanged(root, grant is null ? null : request.ThumbprintSha1) is { } changed)
            {
                return PortalResult.Fail<SetupCertificateView>(changed);
            }

            using var x509 = X509Certificate2.CreateFromPem(root.Pem);
            var name = root.DpsCertificateName ?? SetupCertificates.FileNameFor(root);
            var uploaded = await arm.UploadCertificateAsync(group, dpsName, name, x509, isVerified: request.VerifiedOnUpload, cancellationToken).ConfigureAwait(false);
            root.DpsCertificateName = uploaded.Name;
            root.IsVerified = uploaded.IsVerified;
            setup.CurrentStep = Math.Max(setup.CurrentStep, uploaded.IsVerified ? 8 : 7);
            return PortalResult.Ok(SetupCertificates.ToView(root));
        }) { Request = request, Grant = grant }, cancellationToken);
}
