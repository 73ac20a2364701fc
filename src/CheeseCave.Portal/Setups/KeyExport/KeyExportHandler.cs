using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.KeyExport;

/// <summary>A CA private key exported for its requester: downloadable once from <see cref="DownloadPath"/> until <see cref="Until"/>.</summary>
public sealed record KeyExportView(string DownloadPath, string Passphrase, DateTimeOffset Until, string FileName);

/// <summary>Exporting a CA private key of a setup, for its requester only, once; gated like any change to the CA.</summary>
public sealed class KeyExportHandler(SetupPipeline pipeline, IKeyStore keys, ApprovalHandoff handoff)
{
    /// <summary>
    /// Exports a CA key of the setup as encrypted PKCS#8 PEM with a generated passphrase. The PEM waits in memory for
    /// one download by the requester (never over the circuit); the passphrase is returned once (or, after approval,
    /// shown once to the requester on the request's page).
    /// </summary>
    public async Task<PortalResult<KeyExportView>> ExportPrivateKeyAsync(ClaimsPrincipal caller, int setupId, int certificateId, CancellationToken cancellationToken = default) =>
        await pipeline.RequestIfRequiredAsync<KeyExportView>(caller, setupId, new ExportPrivateKeyPayload(certificateId, ""), ApprovalAuditActions.KeyExported, "export a CA private key", cancellationToken).ConfigureAwait(false)
        ?? await ExportAsync(caller, setupId, certificateId, null, null, null, cancellationToken).ConfigureAwait(false);

    internal async Task<PortalResult<KeyExportView>> ExportAsync(ClaimsPrincipal caller, int setupId, int certificateId, string? expectedThumbprint, string? ownerId, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var target = $"setup {setupId} certificate {certificateId}";
        var actor = await pipeline.RequireChangeAsync(caller, ApprovalAuditActions.KeyExported, target, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            return PortalResult.Fail<KeyExportView>(PortalError.NotAllowed("export CA private keys"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var certificate = await db.SetupCertificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == certificateId && c.SetupId == setupId, cancellationToken).ConfigureAwait(false);
        PortalError? problem = certificate switch
        {
            null => PortalError.NotFound,
            { KeyId: null } => new PortalError("The portal does not hold this CA's private key, so there is nothing to export.", "Export it where the key is kept."),
            _ => SetupCertificates.CaChanged(certificate, expectedThumbprint),
        };
        if (problem is not null)
        {
            await pipeline.Audit.WriteAsync(actor, ApprovalAuditActions.KeyExported, target, AuditOutcomes.Failed, SetupPipeline.Trim(SetupPipeline.Noted(problem.Message, grant)), cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<KeyExportView>(problem);
        }

        string pem;
        var passphrase = Passphrases.Generate();
        try
        {
            using var key = await keys.OpenAsync(certificate!.KeyId!, cancellationToken).ConfigureAwait(false);
            pem = key is PrivateKey software
                ? software.ExportEncryptedPem(passphrase)
                : throw new PkiException(PkiErrorCode.UnsupportedKey, "This key cannot be exported: it is not a software key.");
        }
        catch (PkiException ex)
        {
            await pipeline.Audit.WriteAsync(actor, ApprovalAuditActions.KeyExported, target, AuditOutcomes.Failed, SetupPipeline.Trim(SetupPipeline.Noted(ex.Message, grant)), cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<KeyExportView>(new PortalError(ex.Message, "If the key is unreadable, the portal's keys/ folder may have been lost or replaced."));
        }

        var fileName = SetupCertificates.FileNameFor(certificate) + ".key.pem";
        var downloadId = $"{Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant()}";
        var until = handoff.Keep(KeyExportKey(downloadId), ownerId ?? actor.Id ?? throw new InvalidOperationException("The caller has no user id."), Encoding.ASCII.GetBytes(pem));
        await pipeline.Audit.WriteAsync(actor, ApprovalAuditActions.KeyExported, target, AuditOutcomes.Succeeded, SetupPipeline.Trim(SetupPipeline.Noted($"{fileName}: encrypted PKCS#8, one download until {until:HH:mm} UTC", grant)), cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(new KeyExportView($"setups/{setupId}/key-exports/{downloadId}/{fileName}", passphrase, until, fileName));
    }

    /// <summary>The exported key, once, for the user it was exported for, within its window. Audited.</summary>
    public async Task<PortalResult<CertificateFile>> DownloadKeyExportAsync(ClaimsPrincipal caller, int setupId, string downloadId, string fileName, CancellationToken cancellationToken = default)
    {
        var target = $"setup {setupId} key export";
        var actor = await pipeline.RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await pipeline.Audit.WriteAsync(Actor.From(caller), ApprovalAuditActions.KeyExportDownloaded, target, AuditOutcomes.Denied, "Operator role required", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<CertificateFile>(PortalError.NotAllowed("download exported keys"));
        }

        if (handoff.Take(KeyExportKey(downloadId), actor.Id) is not { } pem)
        {
            await pipeline.Audit.WriteAsync(actor, ApprovalAuditActions.KeyExportDownloaded, target, AuditOutcomes.Failed, "not waiting for this user", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<CertificateFile>(new PortalError("This key export is not (or no longer) available to you.",
                "An export is downloadable once, by the person it was made for, for 15 minutes. Export it again.", Status: 410));
        }

        await pipeline.Audit.WriteAsync(actor, ApprovalAuditActions.KeyExportDownloaded, target, AuditOutcomes.Succeeded, SetupPipeline.Trim(fileName), cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(new CertificateFile(fileName, "application/x-pem-file", pem));
    }

    private static string KeyExportKey(string downloadId) => $"key-export/{downloadId}";
}
