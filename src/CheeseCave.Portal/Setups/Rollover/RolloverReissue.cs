using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using CheeseCave.Pki;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Setups.Rollover;

/// <summary>
/// Rollover step 5: every active device certificate of the old generation (not superseded, not revoked) gets a
/// successor from the new CA, with the same registration id and a new key. Signed in batches (one ZIP each, like a
/// step 9 batch) with progress; recorded all at once, with the successor links both ways and one
/// <see cref="RolloverBatch"/> row per batch, in one transaction, so an interruption leaves nothing half-done. Keys and
/// PFX files are handed out like a device batch: encrypted in memory for the download window, to the requester only,
/// with one PFX password shown once; the batch rows say whether they got there (<see cref="RolloverKeySweep"/>), and a
/// batch whose keys were lost can be re-issued again. A new CA without a key the portal holds cannot sign: the step is
/// then confirmed as done elsewhere.
/// </summary>
public sealed class RolloverReissue(RolloverStepRunner runner, IKeyStore keys, DeviceKeyVault deviceKeys)
{
    public Task<PortalResult<RolloverReissueView>> ReissueDevicesAsync(ClaimsPrincipal caller, int setupId, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        ReissueAsync(caller, setupId, new RolloverStepPayload(RolloverStep.Reissue), null, progress, cancellationToken);

    /// <summary>The devices of a batch whose keys a restart took get another certificate (new keys); the keyless ones are superseded.</summary>
    public Task<PortalResult<RolloverReissueView>> ReissueLostBatchAsync(ClaimsPrincipal caller, int setupId, string batchId, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        ReissueAsync(caller, setupId, new RolloverStepPayload(RolloverStep.Reissue, LostBatchId: batchId), null, progress, cancellationToken);

    /// <summary>
    /// For a new CA imported without its key: the devices were re-issued where that key is kept; this records that the
    /// step is done (nothing is signed) so the old CA can be retired.
    /// </summary>
    public Task<PortalResult<RolloverReissueView>> ConfirmReissuedElsewhereAsync(ClaimsPrincipal caller, int setupId, CancellationToken cancellationToken = default) =>
        ReissueAsync(caller, setupId, new RolloverStepPayload(RolloverStep.Reissue, Elsewhere: true), null, null, cancellationToken);

    /// <summary>The certificates of a re-issued batch still standing (not superseded, not revoked): keyless when its keys were lost.</summary>
    internal static Task<List<SetupDevice>> KeylessAsync(PortalDbContext db, int setupId, string batchId, CancellationToken cancellationToken) =>
        db.SetupDevices.Where(d => d.SetupId == setupId && d.BatchId == batchId && d.SupersededByDeviceId == null && d.RevokedAt == null)
            .OrderBy(d => d.Id).ToListAsync(cancellationToken);

    /// <summary>The device certificates a rollover still has to re-issue: active, and not from its new generation.</summary>
    internal static async Task<List<SetupDevice>> PendingAsync(PortalDbContext db, int setupId, CaRollover rollover, CancellationToken cancellationToken)
    {
        var newRoot = await db.SetupCertificates.AsNoTracking().FirstAsync(c => c.Id == rollover.NewRootId, cancellationToken).ConfigureAwait(false);
        var newIssuers = await db.SetupCertificates.AsNoTracking()
            .Where(c => c.SetupId == setupId && (c.Id == newRoot.Id || c.Issuer == newRoot.Subject)).Select(c => c.Subject).ToListAsync(cancellationToken).ConfigureAwait(false);
        return await db.SetupDevices
            .Where(d => d.SetupId == setupId && d.SupersededByDeviceId == null && d.RevokedAt == null && !newIssuers.Contains(d.Issuer))
            .OrderBy(d => d.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    internal Task<PortalResult<RolloverReissueView>> ReissueAsync(ClaimsPrincipal caller, int setupId, RolloverStepPayload request, ApprovalGrant? grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        runner.RunAsync(caller, setupId, request, grant, async context =>
        {
            var (setup, db, rollover) = (context.Setup, context.Db, context.Rollover);
            var (root, issuer) = RolloverRules.Generation(context.Cas, rollover.NewRootId);
            if (request.Elsewhere)
            {
                return issuer is not null
                    ? PortalResult.Fail<RolloverReissueView>(new PortalError("The portal holds the new CA's key, so it re-issues the devices itself.", "Use \"Re-issue\" instead."))
                    : PortalResult.Ok(new RolloverReissueView(0, [], "", runner.Pipeline.Time.GetUtcNow()));
            }

            if (root is null || issuer is null)
            {
                return PortalResult.Fail<RolloverReissueView>(new PortalError("The portal does not hold the new CA's private key (it was imported without it), so it cannot re-issue the devices.",
                    "Re-issue them where the new CA's key is kept, then confirm here that they were re-issued elsewhere."));
            }

            var old = request.LostBatchId is { } lostBatch
                ? await KeylessAsync(db, setup.Id, lostBatch, cancellationToken).ConfigureAwait(false)
                : await PendingAsync(db, setup.Id, rollover, cancellationToken).ConfigureAwait(false);
            var actor = Actor.From(context.Caller);
            var owner = grant is null
                ? new KeyOwner(actor.Id ?? throw new InvalidOperationException("The caller has no user id to own the device keys."), actor.Name)
                : new KeyOwner(SetupApprovalOutcome.RequesterId(grant), grant.RequestedBy);
            var now = runner.Pipeline.Time.GetUtcNow();
            var password = Passphrases.Generate();
            var authority = new Pki.CertificateAuthority(runner.Pipeline.Time);
            var pending = new List<(SetupDevice Old, SetupDevice New, byte[] Pkcs8, byte[] Pfx)>(old.Count);
            var batches = new List<ReissuedBatch>();
            var records = new List<RolloverBatch>();
            using var credential = await DeviceCa.OpenAsync(keys, issuer, root, cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var chunk in old.Chunk(DeviceSettings.MaxBatch))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var batchId = $"{now:yyyyMMdd-HHmmss}-r{rollover.Id}-{batches.Count + 1}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
                    foreach (var device in chunk)
                    {
                        using var issued = authority.IssueDeviceCertificate(new DeviceCertificateRequest(device.RegistrationId), credential);
                        var successor = new SetupDevice
                        {
                            SetupId = setup.Id,
                            RegistrationId = device.RegistrationId,
                            ChainPem = CertificateExport.ToPem(issued.DeviceChain),
                            BatchId = batchId,
                            IssuedBy = actor.Name,
                            IssuedAt = now,
                            Source = DeviceCertificateSource.PortalKey,
                            RequestedBy = grant?.RequestedBy ?? actor.Name,
                            ApprovedBy = CertificateFacts.ApproversOf(grant),
                            RenewsDeviceId = device.Id,
                        };
                        CertificateFacts.Fill(successor, issued.Certificate);
                        pending.Add((device, successor, issued.Key!.ExportPkcs8ForProtectedStore(), CertificateExport.ToPfx(issued, password)));
                    }

                    batches.Add(new ReissuedBatch(batchId, chunk.Length));
                    progress?.Report($"signed {pending.Count.ToString("N0", CultureInfo.InvariantCulture)} of {old.Count.ToString("N0", CultureInfo.InvariantCulture)} device certificates");
                }

                progress?.Report("recording the new certificates");
                await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
                {
                    db.SetupDevices.AddRange(pending.Select(p => p.New));
                    await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                    foreach (var (device, successor, _, _) in pending)
                    {
                        device.SupersededByDeviceId = successor.Id;
                        device.SupersededAt = now;
                    }

                    // Each batch is recorded with its keys not handed out yet: if the portal stops before the final save
                    // below, the next start finds them so and says the keys were lost.
                    records.AddRange(batches.Select(b => new RolloverBatch { RolloverId = rollover.Id, BatchId = b.BatchId, DeviceCount = b.Count, SignedAt = now }));
                    db.RolloverBatches.AddRange(records);
                    if (request.LostBatchId is { } replaced)
                    {
                        var lost = await db.RolloverBatches.FirstAsync(b => b.BatchId == replaced, cancellationToken).ConfigureAwait(false);
                        lost.ReplacedByBatchId = batches.Count > 0 ? batches[0].BatchId : "";
                        RolloverStepRunner.Settle(rollover, now);
                    }
                    else
                    {
                        rollover.ReissuedCount += pending.Count;
                        RolloverStepRunner.Advance(rollover, RolloverStep.Reissue, now);
                    }

                    await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }

                var until = now + deviceKeys.Lifetime;
                foreach (var (_, successor, pkcs8, pfx) in pending)
                {
                    until = deviceKeys.Keep(successor.Id, owner, pkcs8, pfx);
                }

                // Saved by the pipeline's final save: from then on the batches' keys count as handed out.
                foreach (var record in records)
                {
                    record.KeysKeptUntil = until;
                }

                return PortalResult.Ok(new RolloverReissueView(pending.Count, batches, password, until));
            }
            finally
            {
                foreach (var (_, _, pkcs8, pfx) in pending)
                {
                    CryptographicOperations.ZeroMemory(pkcs8);
                    CryptographicOperations.ZeroMemory(pfx);
                }
            }
        }, cancellationToken);
}
