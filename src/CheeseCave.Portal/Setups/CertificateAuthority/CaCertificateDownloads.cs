using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using CheeseCave.Pki;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.CertificateAuthority;

/// <summary>The setup's CA certificates as files (PEM or DER): public material only, Viewer and above, each download audited.</summary>
public sealed class CaCertificateDownloads(SetupPipeline pipeline)
{
    /// <summary>A certificate of the setup as PEM or DER, for the download endpoint. Public material only; audited.</summary>
    public async Task<PortalResult<CertificateFile>> DownloadCertificateAsync(ClaimsPrincipal caller, int setupId, int certificateId, bool der, CancellationToken cancellationToken = default)
    {
        var actor = await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await pipeline.Audit.WriteAsync(Actor.From(caller), AuditActions.SetupCertificateDownloaded, $"setup {setupId} certificate {certificateId}", AuditOutcomes.Denied, cancellationToken: cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<CertificateFile>(PortalError.NotAllowed("download certificates"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var certificate = await db.SetupCertificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == certificateId && c.SetupId == setupId, cancellationToken).ConfigureAwait(false);
        if (certificate is null)
        {
            return PortalResult.Fail<CertificateFile>(PortalError.NotFound);
        }

        var baseName = SetupCertificates.FileNameFor(certificate);
        CertificateFile file;
        if (der)
        {
            using var x509 = X509Certificate2.CreateFromPem(certificate.Pem);
            file = new CertificateFile(baseName + ".cer", "application/pkix-cert", CertificateExport.ToDer(x509));
        }
        else
        {
            file = new CertificateFile(baseName + ".pem", "application/x-pem-file", System.Text.Encoding.ASCII.GetBytes(certificate.Pem));
        }

        await pipeline.Audit.WriteAsync(actor, AuditActions.SetupCertificateDownloaded, $"setup {setupId} certificate {certificateId}", AuditOutcomes.Succeeded, file.FileName, cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(file);
    }
}
