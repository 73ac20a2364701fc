using System.IO.Compression;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Devices;

/// <summary>Step 9's downloads: one file of a device, or a batch as a ZIP; keys only for the batch's issuer, in its window.</summary>
public sealed class DeviceDownloadsHandler(SetupPipeline pipeline, DeviceKeyVault deviceKeys)
{
    /// <summary>
    /// One file of an issued device for the download endpoint. Certificates (leaf, chain, DER) need Viewer; the key and
    /// the PFX need Operator, exist only during the download window (410 after) and go only to the user who issued the
    /// batch (anyone else gets a plain 403 naming them). Every download and refusal is audited.
    /// </summary>
    public async Task<PortalResult<CertificateFile>> DownloadDeviceFileAsync(ClaimsPrincipal caller, int setupId, int deviceId, DeviceFileKind kind, CancellationToken cancellationToken = default)
    {
        var secret = kind is DeviceFileKind.Key or DeviceFileKind.Pfx;
        var target = $"setup {setupId} device {deviceId}";
        var actor = await pipeline.RequireAsync(caller, secret ? PortalRoles.Operator : PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await pipeline.Audit.WriteAsync(Actor.From(caller), AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Denied, $"{kind}: {(secret ? "Operator" : "Viewer")} role required", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<CertificateFile>(PortalError.NotAllowed(secret ? "download device keys" : "download device certificates"));
        }

        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var device = await db.SetupDevices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId && d.SetupId == setupId, cancellationToken).ConfigureAwait(false);
        if (device is null)
        {
            return PortalResult.Fail<CertificateFile>(PortalError.NotFound);
        }

        if (secret && NotTheOwner(device, actor) is { } notYours)
        {
            await pipeline.Audit.WriteAsync(actor, AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Denied, $"{kind}: not the batch's issuer ({deviceKeys.Owner(device.Id)?.Name})", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<CertificateFile>(notYours);
        }

        var file = DeviceFile(device, kind);
        if (file is null)
        {
            await pipeline.Audit.WriteAsync(actor, AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Failed, $"{kind}: key no longer available", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<CertificateFile>(DeviceCa.KeyGone(device.RegistrationId));
        }

        await pipeline.Audit.WriteAsync(actor, AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Succeeded, file.FileName, cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(file);
    }

    /// <summary>
    /// A ZIP of one batch: per device its certificate, chain and DER, plus (for the Operator who issued the batch, while
    /// the window is open) its key and PFX; and a README with each device's settings snippet. Everyone else allowed in
    /// gets the certificates only (the README says whose the keys are); that is audited as keys withheld.
    /// </summary>
    public async Task<PortalResult<CertificateFile>> DownloadBatchAsync(ClaimsPrincipal caller, int setupId, string batchId, CancellationToken cancellationToken = default)
    {
        var target = $"setup {setupId} batch {batchId}";
        var actor = await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await pipeline.Audit.WriteAsync(Actor.From(caller), AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Denied, "Viewer role required", cancellationToken).ConfigureAwait(false);
            return PortalResult.Fail<CertificateFile>(PortalError.NotAllowed("download device certificates"));
        }

        var withKeys = await pipeline.RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false) is not null;
        await using var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        var devices = await db.SetupDevices.AsNoTracking().Where(d => d.SetupId == setupId && d.BatchId == batchId).ToListAsync(cancellationToken).ConfigureAwait(false);
        if (setup is null || devices.Count == 0)
        {
            return PortalResult.Fail<CertificateFile>(PortalError.NotFound);
        }

        var keysIncluded = 0;
        var withheldFrom = new HashSet<string>(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var device in devices.OrderBy(d => d.RegistrationId, StringComparer.Ordinal))
            {
                var kinds = withKeys
                    ? new[] { DeviceFileKind.Certificate, DeviceFileKind.Chain, DeviceFileKind.Der, DeviceFileKind.Key, DeviceFileKind.Pfx }
                    : [DeviceFileKind.Certificate, DeviceFileKind.Chain, DeviceFileKind.Der];
                foreach (var kind in kinds)
                {
                    if (kind is DeviceFileKind.Key or DeviceFileKind.Pfx && NotTheOwner(device, actor) is not null)
                    {
                        withheldFrom.Add(deviceKeys.Owner(device.Id)?.Name ?? "");
                        continue;
                    }

                    if (DeviceFile(device, kind) is not { } file)
                    {
                        continue;
                    }

                    keysIncluded += kind == DeviceFileKind.Key ? 1 : 0;
                    var entry = zip.CreateEntry($"{SafeName(device.RegistrationId)}/{file.FileName}", CompressionLevel.Optimal);
                    await using var stream = await entry.OpenAsync(cancellationToken).ConfigureAwait(false);
                    await stream.WriteAsync(file.Content, cancellationToken).ConfigureAwait(false);
                }
            }

            var readme = zip.CreateEntry("README.md", CompressionLevel.Optimal);
            await using var readmeStream = await readme.OpenAsync(cancellationToken).ConfigureAwait(false);
            await readmeStream.WriteAsync(Encoding.UTF8.GetBytes(BatchReadme(setup, devices, keysIncluded > 0, withheldFrom)), cancellationToken).ConfigureAwait(false);
        }

        if (withheldFrom.Count > 0)
        {
            await pipeline.Audit.WriteAsync(actor, AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Denied,
                SetupPipeline.Trim($"keys and PFX files left out of the ZIP: not the batch's issuer ({string.Join(", ", withheldFrom)})"), cancellationToken).ConfigureAwait(false);
        }

        var name = $"{SafeName(setup.Name)}-{batchId}.zip";
        await pipeline.Audit.WriteAsync(actor, AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Succeeded,
            $"{name}: {devices.Count} device(s), {(keysIncluded > 0 ? $"{keysIncluded} key(s)" : "certificates only")}", cancellationToken).ConfigureAwait(false);
        return PortalResult.Ok(new CertificateFile(name, "application/zip", buffer.ToArray()));
    }

    private CertificateFile? DeviceFile(SetupDevice device, DeviceFileKind kind)
    {
        var name = SafeName(device.RegistrationId);
        switch (kind)
        {
            case DeviceFileKind.Certificate:
                return new(name + ".cert.pem", "application/x-pem-file", Encoding.ASCII.GetBytes(device.CertificatePem));
            case DeviceFileKind.Chain:
                return new(name + "-chain.pem", "application/x-pem-file", Encoding.ASCII.GetBytes(device.ChainPem));
            case DeviceFileKind.Der:
                using (var x509 = X509Certificate2.CreateFromPem(device.CertificatePem))
                {
                    return new(name + ".cer", "application/pkix-cert", CertificateExport.ToDer(x509));
                }

            case DeviceFileKind.Pfx:
                return deviceKeys.Pfx(device.Id) is { } pfx ? new(name + ".pfx", "application/x-pkcs12", pfx) : null;
            case DeviceFileKind.Key:
                if (deviceKeys.Pkcs8(device.Id) is not { } pkcs8)
                {
                    return null;
                }

                try
                {
                    using var key = PrivateKey.ImportPkcs8(pkcs8);
                    return new(name + ".key.pem", "application/x-pem-file", Encoding.ASCII.GetBytes(key.ExportUnencryptedPem(iUnderstandTheKeyIsNotProtected: true)));
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(pkcs8);
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>Null when the caller issued the device's batch or its key is gone anyway; otherwise the plain refusal.</summary>
    private PortalError? NotTheOwner(SetupDevice device, Actor caller) =>
        deviceKeys.Owner(device.Id) is { } owner && !string.Equals(owner.UserId, caller.Id, StringComparison.Ordinal)
            ? new PortalError(
                $"Only {owner.Name}, who issued this batch, can download its keys, until {deviceKeys.AvailableUntil(device.Id)?.ToString("HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture) ?? "the download window closes"}.",
                $"Ask {owner.Name} to download them, or issue the device again yourself in step 9. Its certificates stay downloadable for everyone.",
                Status: 403)
            : null;

    private static string BatchReadme(DpsSetup setup, List<SetupDevice> devices, bool withKeys, HashSet<string> withheldFrom)
    {
        var text = new StringBuilder();
        text.Append("# Device certificates: ").Append(setup.Name).Append('\n').Append('\n');
        text.Append("Issued by ").Append(devices[0].IssuedBy).Append(" on ").Append(devices[0].IssuedAt.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture))
            .Append(" from the setup's CA. Batch ").Append(devices[0].BatchId).Append(".\n\n");
        text.Append("Each folder holds `<id>.cert.pem` (the device certificate), `<id>-chain.pem` (what the device sends: the certificate and the\n")
            .Append("intermediate CA) and `<id>.cer` (DER).");
        text.Append(withKeys
            ? " It also holds `<id>.key.pem` (the private key, unencrypted: copy it to the device and delete it here) and `<id>.pfx`\n(certificate, key and chain; its password was shown once in the portal when the batch was issued).\n\n"
            : withheldFrom.Count > 0
                ? $" No private keys: only {string.Join(", ", withheldFrom)}, who issued this batch, can download them, for 15 minutes after issuing.\n\n"
                : " No private keys: they are only in the download of the Operator who issued the batch, for 15 minutes after issuing.\n\n");
        foreach (var device in devices.OrderBy(d => d.RegistrationId, StringComparer.Ordinal))
        {
            text.Append("## ").Append(device.RegistrationId).Append("\n\n```json\n")
                .Append(DeviceSettings.Snippet(setup.DeviceHost, setup.IdScope, device.RegistrationId)).Append("\n```\n\n");
        }

        return text.ToString();
    }

    private static string SafeName(string name)
    {
        var safe = new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]).Trim('-', '.');
        return string.IsNullOrEmpty(safe) ? "device" : safe;
    }
}
