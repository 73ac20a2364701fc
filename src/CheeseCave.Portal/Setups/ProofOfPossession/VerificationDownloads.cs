using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.ProofOfPossession;

/// <summary>Downloads of the verification certificate that proved possession of a CA (public material, audited).</summary>
public sealed class VerificationDownloads(SetupPipeline pipeline, SetupProofStore proofs)
{
    /// <summary>The verification certificate that proved possession (one click or by hand), PEM or DER. Public; audited.</summary>
    public async Task<PortalResult<CertificateFile>> DownloadVerificationCertificateAsync(ClaimsPrincipal caller, int setupId, int certificateId, bool der, CancellationToken cancellationToken = default)
    {
        var target = $"setup {setupId} certificate {certificateId} verification";
        var actor = await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await pipeline.Audit.WriteAsync(Actor.From(caller), CaImportAuditActions.VerificationDownloaded, target, AuditOutcomes.Denied, cancellationToken: cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<CertificateFile>(PortalError.NotAllowed("download certificates"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var certificate = await db.SetupCertificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == certificateId && c.SetupId == setupId, cancellationToken).ConfigureAwait(false);
        var record = certificate is null ? null : await proofs.ReadAsync(setupId, certificateId, cancellationToken).ConfigureAwait(false);
        if (certificate is null || record?.VerificationPem is not { } pem)
        {
            return PortalResult.Fail<CertificateFile>(PortalError.NotFound);
        }

        var baseName = SetupCertificates.FileNameFor(certificate) + "-verification";
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

        await pipeline.Audit.WriteAsync(actor, CaImportAuditActions.VerificationDownloaded, target, AuditOutcomes.Succeeded, file.FileName, cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(file);
    }
}
