using System.Globalization;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Setups.Expiry;

/// <summary>What one check found and did.</summary>
public sealed record ExpiryRunResult(DateTimeOffset At, int Due, int Sent, int Failed, int AlreadySent, IReadOnlyList<string> Problems, bool NoChannel)
{
    public string Summary => NoChannel
        ? $"{Due} certificate(s) past a threshold; no notification channel is configured"
        : $"{Due} certificate(s) past a threshold: {Sent} notice(s) sent, {Failed} failed, {AlreadySent} sent before";
}

/// <summary>
/// One run of the expiry watch: finds every active CA and device certificate past a threshold (90 and 30 days left by
/// default, and expired), and for each enabled channel claims each (certificate, threshold, channel) notice in the
/// database before sending it. The claim is a row under a unique index, so a second check running at the same time,
/// or a second portal on the same database, skips what this one claimed: every notice goes out once. A failed notice
/// is tried again at the next check; revoked, superseded and retired certificates never notify.
/// </summary>
public sealed class ExpiryCheck(IDbContextFactory<PortalDbContext> contexts, IEnumerable<IExpiryNotifier> notifiers, AuditLog audit, TimeProvider time,
    IOptions<ExpiryWatchOptions> options, IOptions<CheeseCaveOptions> portal)
{
    /// <summary>Notices per message (per POST, per e-mail).</summary>
    public const int NoticesPerMessage = 100;

    /// <summary>A claim this old was left by a check that died while sending: it may be claimed again.</summary>
    public static TimeSpan StaleClaim { get; } = TimeSpan.FromHours(1);

    public async Task<ExpiryRunResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var due = await DueAsync(now, cancellationToken).ConfigureAwait(false);
        var channels = notifiers.Where(n => n.IsEnabled).ToList();
        if (channels.Count == 0 || due.Count == 0)
        {
            return new ExpiryRunResult(now, due.Count, 0, 0, 0, [], channels.Count == 0);
        }

        int sent = 0, failed = 0, before = 0;
        var problems = new List<string>();
        foreach (var channel in channels)
        {
            var claimed = await ClaimAsync(channel.Channel, due, now, cancellationToken).ConfigureAwait(false);
            before += due.Count - claimed.Count;
            foreach (var chunk in claimed.Chunk(NoticesPerMessage))
            {
                var ids = chunk.Select(c => c.Id).ToList();
                await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await channel.SendAsync(new ExpiryMessage([.. chunk.Select(c => c.Notice)], now, portal.Value.PublicUrl), cancellationToken).ConfigureAwait(false);
                    var at = time.GetUtcNow();
                    await db.ExpiryNotifications.Where(n => ids.Contains(n.Id)).ExecuteUpdateAsync(u => u
                        .SetProperty(n => n.State, ExpiryNotificationState.Sent).SetProperty(n => n.SentAt, at).SetProperty(n => n.Error, (string?)null), cancellationToken).ConfigureAwait(false);
                    sent += chunk.Length;
                    await AuditAsync(chunk, channel.Channel, AuditOutcomes.Succeeded, null, cancellationToken).ConfigureAwait(false);
                }
                catch (ExpiryDeliveryException ex)
                {
                    var error = ex.Message.Length > 500 ? ex.Message[..500] : ex.Message;
                    await db.ExpiryNotifications.Where(n => ids.Contains(n.Id)).ExecuteUpdateAsync(u => u
                        .SetProperty(n => n.State, ExpiryNotificationState.Failed).SetProperty(n => n.Error, error), CancellationToken.None).ConfigureAwait(false);
                    failed += chunk.Length;
                    problems.Add($"{channel.Channel}: {ex.Message}");
                    await AuditAsync(chunk, channel.Channel, AuditOutcomes.Failed, ex.Message, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }

        return new ExpiryRunResult(now, due.Count, sent, failed, before, problems, false);
    }

    /// <summary>Active certificates past a threshold, each with the nearest threshold it has crossed.</summary>
    public async Task<IReadOnlyList<ExpiryNotice>> DueAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var thresholds = options.Value.Thresholds;
        var horizon = now.AddDays(thresholds[^1]);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var cas = await db.SetupCertificates.AsNoTracking().Where(c => c.RetiredAt == null && c.NotAfter <= horizon)
            .Join(db.Setups, c => c.SetupId, s => s.Id, (c, s) => new { c.Id, c.SetupId, Setup = s.Name, c.Subject, c.SerialNumber, c.ThumbprintSha1, c.ThumbprintSha256, c.NotAfter })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var devices = await db.SetupDevices.AsNoTracking().Where(d => d.RevokedAt == null && d.SupersededByDeviceId == null && d.NotAfter <= horizon)
            .Join(db.Setups, d => d.SetupId, s => s.Id, (d, s) => new { d.Id, d.SetupId, Setup = s.Name, d.RegistrationId, d.SerialNumber, d.ThumbprintSha1, d.ThumbprintSha256, d.NotAfter })
            .ToListAsync(cancellationToken).ConfigureAwait(false);

        return
        [
            .. cas.Select(c => new ExpiryNotice(ExpiryCertificateKind.Ca, c.Id, c.SetupId, c.Setup, c.Subject, c.Subject, c.SerialNumber, c.ThumbprintSha1, c.ThumbprintSha256,
                c.NotAfter, Threshold(c.NotAfter, now, thresholds), DaysLeft(c.NotAfter, now))),
            .. devices.Select(d => new ExpiryNotice(ExpiryCertificateKind.Device, d.Id, d.SetupId, d.Setup, d.RegistrationId, "CN=" + d.RegistrationId, d.SerialNumber,
                d.ThumbprintSha1, d.ThumbprintSha256, d.NotAfter, Threshold(d.NotAfter, now, thresholds), DaysLeft(d.NotAfter, now))),
        ];
    }

    /// <summary>"expired", or the nearest threshold crossed ("30d" for a certificate with 12 days left).</summary>
    public static string Threshold(DateTimeOffset notAfter, DateTimeOffset now, IReadOnlyList<int> thresholdsNearestFirst)
    {
        ArgumentNullException.ThrowIfNull(thresholdsNearestFirst);
        return notAfter <= now ? ExpiryNotice.Expired : ExpiryNotice.ThresholdName(thresholdsNearestFirst.First(days => notAfter <= now.AddDays(days)));
    }

    private static int DaysLeft(DateTimeOffset notAfter, DateTimeOffset now) => Math.Max(0, (int)Math.Floor((notAfter - now).TotalDays));

    private async Task<List<(ExpiryNotice Notice, long Id)>> ClaimAsync(string channel, IReadOnlyList<ExpiryNotice> due, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var known = (await db.ExpiryNotifications.AsNoTracking().Where(n => n.Channel == channel)
                .Select(n => new { n.CertificateKind, n.CertificateId, n.Threshold, n.State }).ToListAsync(cancellationToken).ConfigureAwait(false))
            .ToDictionary(n => (n.CertificateKind, n.CertificateId, n.Threshold), n => n.State);
        var claimed = new List<(ExpiryNotice, long)>();
        var stale = now - StaleClaim;
        foreach (var notice in due)
        {
            var state = known.TryGetValue((notice.Kind, notice.CertificateId, notice.Threshold), out var found) ? found : (ExpiryNotificationState?)null;
            if (state == ExpiryNotificationState.Sent)
            {
                continue;
            }

            if (state is null && await TryInsertClaimAsync(db, notice, channel, now, cancellationToken).ConfigureAwait(false) is { } id)
            {
                claimed.Add((notice, id));
                continue;
            }

            // Known but not sent (failed before, or claimed by a check that may have died), or inserted meanwhile by another check.
            var key = db.ExpiryNotifications.Where(n => n.CertificateKind == notice.Kind && n.CertificateId == notice.CertificateId && n.Threshold == notice.Threshold && n.Channel == channel);
            var retaken = await key.Where(n => n.State == ExpiryNotificationState.Failed || (n.State == ExpiryNotificationState.Claimed && n.ClaimedAt < stale))
                .ExecuteUpdateAsync(u => u.SetProperty(n => n.State, ExpiryNotificationState.Claimed).SetProperty(n => n.ClaimedAt, now).SetProperty(n => n.Attempts, n => n.Attempts + 1),
                    cancellationToken).ConfigureAwait(false);
            if (retaken == 1)
            {
                claimed.Add((notice, await key.Select(n => n.Id).SingleAsync(cancellationToken).ConfigureAwait(false)));
            }
        }

        return claimed;
    }

    /// <summary>The new claim's id, or null when another check inserted the same notice first (the unique index refused this one).</summary>
    private static async Task<long?> TryInsertClaimAsync(PortalDbContext db, ExpiryNotice notice, string channel, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = new ExpiryNotification
        {
            CertificateKind = notice.Kind,
            CertificateId = notice.CertificateId,
            SetupId = notice.SetupId,
            Threshold = notice.Threshold,
            Channel = channel,
            State = ExpiryNotificationState.Claimed,
            NotAfter = notice.NotAfter,
            ClaimedAt = now,
            Attempts = 1,
        };
        db.ExpiryNotifications.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return row.Id;
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return null;
        }
    }

    private async Task AuditAsync(IEnumerable<(ExpiryNotice Notice, long Id)> notices, string channel, string outcome, string? error, CancellationToken cancellationToken)
    {
        foreach (var (notice, _) in notices)
        {
            var what = notice.Threshold == ExpiryNotice.Expired ? "expired notice" : $"{notice.Threshold[..^1]}-day notice";
            var detail = $"{what} by {channel}: {notice.Sentence}{(error is null ? "" : $" Not delivered: {error}")}";
            var target = $"setup {notice.SetupId.ToString(CultureInfo.InvariantCulture)} {(notice.Kind == ExpiryCertificateKind.Ca ? "CA" : "device")} \"{notice.Name}\"";
            await audit.WriteAsync(Actor.System, AuditActions.CertificateExpiryNotified, target, outcome, detail.Length > 500 ? detail[..500] : detail, cancellationToken).ConfigureAwait(false);
        }
    }
}
