using System.IO.Compression;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using CheeseCave.Provisioning.DeviceRegistration;
using CheeseCave.Provisioning.Errors;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups;

// Steps 9 and 10: device certificates from the setup's CA, their downloads, and a test registration.
public sealed partial class SetupWizardService
{
    // ------------------------------------------------------------------ step 9: device certificates

    /// <summary>The setup's issued devices, newest first, with whether their key can still be downloaded.</summary>
    public async Task<SetupResult<IReadOnlyList<SetupDeviceView>>> ListDevicesAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default)
    {
        if (await RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is not { } actor)
        {
            return SetupResult.Fail<IReadOnlyList<SetupDeviceView>>(SetupError.NotAllowed("see devices"));
        }

        await using var db = await Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var devices = await db.SetupDevices.AsNoTracking().Where(d => d.SetupId == setupId).ToListAsync(cancellationToken).ConfigureAwait(false);
        return SetupResult.Ok<IReadOnlyList<SetupDeviceView>>([.. devices.OrderByDescending(d => d.IssuedAt).ThenBy(d => d.RegistrationId, StringComparer.Ordinal).Select(d => ToView(d, actor))]);
    }

    /// <summary>
    /// Issues one device certificate per registration id from the setup's CA (the intermediate when there is one, else
    /// the root; its key is opened from the protected store here and never leaves the server). Certificates are
    /// stored; each device's key and a PFX (with the chain, protected by one generated password per batch) are kept
    /// encrypted in memory for the download window only. The password is returned once and stored nowhere.
    /// </summary>
    public async Task<SetupResult<DeviceBatchView>> IssueDevicesAsync(ClaimsPrincipal caller, int setupId, IReadOnlyList<string> registrationIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registrationIds);
        var payload = new IssueDevicesPayload([.. registrationIds]);
        return await GateAsync<DeviceBatchView>(caller, setupId, payload, AuditActions.SetupDevicesIssued, "issue device certificates", cancellationToken).ConfigureAwait(false)
            ?? await IssueDevicesNowAsync(caller, setupId, payload.RegistrationIds, null, null, cancellationToken).ConfigureAwait(false);
    }

    /// <param name="expectedIssuer">When applying an approval: the signing CA the approvers saw; any other is refused.</param>
    private Task<SetupResult<DeviceBatchView>> IssueDevicesNowAsync(ClaimsPrincipal caller, int setupId, IReadOnlyList<string> registrationIds, string? expectedIssuer, ApprovalGrant? grant, CancellationToken cancellationToken)
    {
        var detail = registrationIds.Count switch
        {
            0 => "no devices",
            1 => $"device {registrationIds[0]}",
            _ => $"{registrationIds.Count} devices: {registrationIds[0]} … {registrationIds[^1]}",
        };
        return ChangeAsync<DeviceBatchView>(caller, setupId, AuditActions.SetupDevicesIssued, Noted(detail, grant), "issue device certificates", async (setup, _, db) =>
        {
            if (registrationIds.Count == 0)
            {
                return SetupResult.Fail<DeviceBatchView>(new SetupError("No registration ids given.", "Enter one id per line, or a prefix and a count."));
            }

            if (registrationIds.Count > DeviceSettings.MaxBatch)
            {
                return SetupResult.Fail<DeviceBatchView>(new SetupError($"{registrationIds.Count} devices at once is too many.", $"Issue at most {DeviceSettings.MaxBatch} per batch."));
            }

            var checks = DeviceSettings.Check(registrationIds);
            var invalid = checks.Where(c => !c.IsValid).ToList();
            if (invalid.Count > 0)
            {
                return SetupResult.Fail<DeviceBatchView>(new SetupError(
                    string.Join(" ", invalid.Take(3).SelectMany(c => c.Errors)) + (invalid.Count > 3 ? $" (and {invalid.Count - 3} more)" : ""),
                    "Correct the registration ids marked in red and try again."));
            }

            var cas = await db.SetupCertificates.AsNoTracking().Where(c => c.SetupId == setup.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            var root = cas.FirstOrDefault(c => c.Id == setup.RootCertificateId) ?? cas.FirstOrDefault(c => c.Kind == SetupCertificateKind.Root);
            // An imported CA may come without its key (the root's, or both): only a CA whose key the portal holds can sign.
            var issuer = cas.FirstOrDefault(c => c.Kind == SetupCertificateKind.Intermediate && c.KeyId is not null) ?? (root?.KeyId is not null ? root : null);
            if (root is null || issuer is null)
            {
                return SetupResult.Fail<DeviceBatchView>(root is null
                    ? new SetupError("This setup has no CA yet.", "Generate or import the CA in step 5 first.")
                    : new SetupError("The portal does not hold the private key of this setup's CA (it was imported without it), so it cannot issue device certificates.",
                        "Issue them where the CA key is kept, or import the CA with its key in a new setup."));
            }

            if (CaChanged(issuer, expectedIssuer) is { } changed)
            {
                return SetupResult.Fail<DeviceBatchView>(changed);
            }

            using var credential = await OpenCaAsync(issuer, root, cancellationToken).ConfigureAwait(false);
            var authority = new CertificateAuthority(Time);
            var password = Passphrases.Generate();
            var now = Time.GetUtcNow();
            var batchId = $"{now:yyyyMMdd-HHmmss}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";
            var actor = Actor.From(caller);
            // The keys belong to whoever asked for the batch: for an approved request its requester, not the approver.
            var owner = grant is null
                ? new KeyOwner(actor.Id ?? throw new InvalidOperationException("The caller has no user id to own the device keys."), actor.Name)
                : new KeyOwner(RequesterId(grant), grant.RequestedBy);
            var warnings = checks.SelectMany(c => c.Warnings).ToList();
            var pending = new List<(SetupDevice Device, byte[] Pkcs8, byte[] Pfx)>();
            try
            {
                foreach (var registrationId in registrationIds)
                {
                    using var issued = authority.IssueDeviceCertificate(new DeviceCertificateRequest(registrationId), credential);
                    warnings.AddRange(issued.Warnings);
                    var device = new SetupDevice
                    {
                        SetupId = setup.Id,
                        RegistrationId = registrationId,
                        ThumbprintSha1 = issued.Certificate.Thumbprint,
                        ThumbprintSha256 = Convert.ToHexString(issued.Certificate.GetCertHash(HashAlgorithmName.SHA256)),
                        NotBefore = new DateTimeOffset(issued.Certificate.NotBefore.ToUniversalTime()),
                        NotAfter = new DateTimeOffset(issued.Certificate.NotAfter.ToUniversalTime()),
                        CertificatePem = CertificateExport.ToPem(issued.Certificate),
                        ChainPem = CertificateExport.ToPem(issued.DeviceChain),
                        BatchId = batchId,
                        IssuedBy = actor.Name,
                        IssuedAt = now,
                    };
                    db.SetupDevices.Add(device);
                    pending.Add((device, issued.Key!.ExportPkcs8ForProtectedStore(), CertificateExport.ToPfx(issued, password)));
                }

                setup.CurrentStep = Math.Max(setup.CurrentStep, 10);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                var until = now;
                foreach (var (device, pkcs8, pfx) in pending)
                {
                    until = DeviceKeys.Keep(device.Id, owner, pkcs8, pfx);
                }

                return SetupResult.Ok(new DeviceBatchView(batchId, password, [.. pending.Select(p => ToView(p.Device, null))], until, [.. warnings.Distinct(StringComparer.Ordinal)]));
            }
            finally
            {
                foreach (var (_, pkcs8, pfx) in pending)
                {
                    CryptographicOperations.ZeroMemory(pkcs8);
                    CryptographicOperations.ZeroMemory(pfx);
                }
            }
        }, cancellationToken);
    }

    /// <summary>
    /// One file of an issued device for the download endpoint. Certificates (leaf, chain, DER) need Viewer; the key and
    /// the PFX need Operator, exist only during the download window (410 after) and go only to the user who issued the
    /// batch (anyone else gets a plain 403 naming them). Every download and refusal is audited.
    /// </summary>
    public async Task<SetupResult<CertificateFile>> DownloadDeviceFileAsync(ClaimsPrincipal caller, int setupId, int deviceId, DeviceFileKind kind, CancellationToken cancellationToken = default)
    {
        var secret = kind is DeviceFileKind.Key or DeviceFileKind.Pfx;
        var target = $"setup {setupId} device {deviceId}";
        var actor = await RequireAsync(caller, secret ? PortalRoles.Operator : PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await Audit.WriteAsync(Actor.From(caller), AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Denied, $"{kind}: {(secret ? "Operator" : "Viewer")} role required", cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<CertificateFile>(SetupError.NotAllowed(secret ? "download device keys" : "download device certificates"));
        }

        await using var db = await Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var device = await db.SetupDevices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId && d.SetupId == setupId, cancellationToken).ConfigureAwait(false);
        if (device is null)
        {
            return SetupResult.Fail<CertificateFile>(SetupError.NotFound);
        }

        if (secret && NotTheOwner(device, actor) is { } notYours)
        {
            await Audit.WriteAsync(actor, AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Denied, $"{kind}: not the batch's issuer ({DeviceKeys.Owner(device.Id)?.Name})", cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<CertificateFile>(notYours);
        }

        var file = DeviceFile(device, kind);
        if (file is null)
        {
            await Audit.WriteAsync(actor, AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Failed, $"{kind}: key no longer available", cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<CertificateFile>(KeyGone(device.RegistrationId));
        }

        await Audit.WriteAsync(actor, AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Succeeded, file.FileName, cancellationToken).ConfigureAwait(false);
        return SetupResult.Ok(file);
    }

    /// <summary>
    /// A ZIP of one batch: per device its certificate, chain and DER, plus (for the Operator who issued the batch, while
    /// the window is open) its key and PFX; and a README with each device's settings snippet. Everyone else allowed in
    /// gets the certificates only (the README says whose the keys are); that is audited as keys withheld.
    /// </summary>
    public async Task<SetupResult<CertificateFile>> DownloadBatchAsync(ClaimsPrincipal caller, int setupId, string batchId, CancellationToken cancellationToken = default)
    {
        var target = $"setup {setupId} batch {batchId}";
        var actor = await RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false);
        if (actor is null)
        {
            await Audit.WriteAsync(Actor.From(caller), AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Denied, "Viewer role required", cancellationToken).ConfigureAwait(false);
            return SetupResult.Fail<CertificateFile>(SetupError.NotAllowed("download device certificates"));
        }

        var withKeys = await RequireAsync(caller, PortalRoles.Operator, cancellationToken).ConfigureAwait(false) is not null;
        await using var db = await Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setup = await db.Setups.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setupId, cancellationToken).ConfigureAwait(false);
        var devices = await db.SetupDevices.AsNoTracking().Where(d => d.SetupId == setupId && d.BatchId == batchId).ToListAsync(cancellationToken).ConfigureAwait(false);
        if (setup is null || devices.Count == 0)
        {
            return SetupResult.Fail<CertificateFile>(SetupError.NotFound);
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
                        withheldFrom.Add(DeviceKeys.Owner(device.Id)?.Name ?? "");
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
            await Audit.WriteAsync(actor, AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Denied,
                Trim($"keys and PFX files left out of the ZIP: not the batch's issuer ({string.Join(", ", withheldFrom)})"), cancellationToken).ConfigureAwait(false);
        }

        var name = $"{SafeName(setup.Name)}-{batchId}.zip";
        await Audit.WriteAsync(actor, AuditActions.SetupDeviceFileDownloaded, target, AuditOutcomes.Succeeded,
            $"{name}: {devices.Count} device(s), {(keysIncluded > 0 ? $"{keysIncluded} key(s)" : "certificates only")}", cancellationToken).ConfigureAwait(false);
        return SetupResult.Ok(new CertificateFile(name, "application/zip", buffer.ToArray()));
    }

    /// <summary>The device settings snippet for one registration id of this setup (ID scope and endpoint from the setup).</summary>
    public static string SnippetFor(SetupView view, string registrationId)
    {
        ArgumentNullException.ThrowIfNull(view);
        return DeviceSettings.Snippet(GlobalEndpointOf(view.DeviceHost), view.IdScope, registrationId);
    }

    private static string? GlobalEndpointOf(string? deviceHost) => deviceHost;

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
                return DeviceKeys.Pfx(device.Id) is { } pfx ? new(name + ".pfx", "application/x-pkcs12", pfx) : null;
            case DeviceFileKind.Key:
                if (DeviceKeys.Pkcs8(device.Id) is not { } pkcs8)
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
    private SetupError? NotTheOwner(SetupDevice device, Actor caller) =>
        DeviceKeys.Owner(device.Id) is { } owner && !string.Equals(owner.UserId, caller.Id, StringComparison.Ordinal)
            ? new SetupError(
                $"Only {owner.Name}, who issued this batch, can download its keys, until {DeviceKeys.AvailableUntil(device.Id)?.ToString("HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture) ?? "the download window closes"}.",
                $"Ask {owner.Name} to download them, or issue the device again yourself in step 9. Its certificates stay downloadable for everyone.",
                Status: 403)
            : null;

    private static SetupError KeyGone(string registrationId) => new(
        $"The private key of '{registrationId}' is no longer available.",
        "Keys are kept for 15 minutes after issuing (and are lost when the portal restarts). Issue the device again in step 9; its certificates stay downloadable.",
        Status: 410);

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
                .Append(DeviceSettings.Snippet(GlobalEndpointOf(setup.DeviceHost), setup.IdScope, device.RegistrationId)).Append("\n```\n\n");
        }

        return text.ToString();
    }

    /// <param name="caller">Who looks (null: the batch just issued, shown to whoever asked for it).</param>
    private SetupDeviceView ToView(SetupDevice device, Actor? caller)
    {
        var owner = DeviceKeys.Owner(device.Id);
        return new(device.Id, device.RegistrationId, device.ThumbprintSha1, device.NotAfter, device.BatchId, device.IssuedBy, device.IssuedAt, DeviceKeys.AvailableUntil(device.Id),
            owner?.Name, owner is not null && (caller is null || string.Equals(owner.UserId, caller.Id, StringComparison.Ordinal)));
    }

    private async Task<CaCredential> OpenCaAsync(SetupCertificate issuer, SetupCertificate root, CancellationToken cancellationToken)
    {
        var key = await Keys.OpenAsync(issuer.KeyId!, cancellationToken).ConfigureAwait(false);
        var certificate = X509Certificate2.CreateFromPem(issuer.Pem);
        return issuer.Id == root.Id
            ? CaCredential.Create(certificate, key)
            : CaCredential.Create(certificate, key, [X509Certificate2.CreateFromPem(root.Pem)]);
    }

    private static string SafeName(string name)
    {
        var safe = new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]).Trim('-', '.');
        return string.IsNullOrEmpty(safe) ? "device" : safe;
    }
}
