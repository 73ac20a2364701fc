using System.Globalization;
using System.Security.Claims;
using CheeseCave.Portal.Setups.Inventory;
using CheeseCave.Portal.Setups.Pipeline;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Setups.Expiry;

/// <summary>One group of the overview: how many, the first few (CAs first, soonest first), and the inventory link showing all.</summary>
public sealed record ExpiryBucket(string Key, string Title, int Total, IReadOnlyList<InventoryRow> Items, string Link);

/// <summary>The settings in effect, without secrets: the webhook's host only (chat webhook paths carry tokens), never a password.</summary>
public sealed record ExpirySettingsView(bool Enabled, TimeSpan Interval, IReadOnlyList<int> Thresholds, string? Webhook, bool WebhookSigned, string? Email);

/// <summary>What expires soon, and the watch's last and next run (settings for administrators only).</summary>
public sealed record ExpiryOverview(IReadOnlyList<ExpiryBucket> Buckets, ExpiryWatchSnapshot Watch, ExpirySettingsView? Settings, DateTimeOffset Now);

/// <summary>The expiry panel on the home page and the setups page. Viewer and up; the settings only for administrators.</summary>
public sealed class ExpiryOverviewHandler(SetupPipeline pipeline, ExpiryWatchStatus status, IOptions<ExpiryWatchOptions> options)
{
    /// <summary>Certificates listed per group; the link shows the rest.</summary>
    public const int ItemsPerBucket = 6;

    public async Task<PortalResult<ExpiryOverview>> GetAsync(ClaimsPrincipal caller, int? setupId = null, CancellationToken cancellationToken = default)
    {
        if (await pipeline.RequireAsync(caller, PortalRoles.Viewer, cancellationToken).ConfigureAwait(false) is null)
        {
            return PortalResult.Fail<ExpiryOverview>(PortalError.NotAllowed("see which certificates expire") with { WhatToDo = "Ask an administrator for the Viewer role." });
        }

        var isAdministrator = await pipeline.RequireAsync(caller, PortalRoles.Administrator, cancellationToken).ConfigureAwait(false) is not null;
        var now = pipeline.Time.GetUtcNow();
        var setup = setupId is { } id ? $"&setup={id.ToString(CultureInfo.InvariantCulture)}" : "";
        var groups = new (string Key, string Title, InventoryFilter Filter, string Link)[]
        {
            ("expired", "Expired", new() { SetupId = setupId, Status = CertificateStatus.Expired }, $"certificates?status=expired{setup}"),
            ("30", "Expire within 30 days", new() { SetupId = setupId, Status = CertificateStatus.Expiring }, $"certificates?status=expiring{setup}"),
            ("90", "Expire in 31 to 90 days", new() { SetupId = setupId, Status = CertificateStatus.Active, ExpiringWithinDays = 90 }, $"certificates?status=active&within=90{setup}"),
        };

        var buckets = new List<ExpiryBucket>();
        await using (var db = await pipeline.Contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var (key, title, filter, link) in groups)
            {
                var (items, total) = await InventoryQueries.PageAsync(db, new InventoryQuery(filter, 0, ItemsPerBucket, IncludeDps: false), now, cancellationToken).ConfigureAwait(false);
                buckets.Add(new ExpiryBucket(key, title, total, items, link));
            }
        }

        var settings = options.Value;
        var view = isAdministrator
            ? new ExpirySettingsView(settings.Enabled, settings.Interval, settings.Thresholds,
                settings.Webhook.IsEnabled ? WebhookNotifier.Describe(settings.Webhook.Url!) : null, !string.IsNullOrEmpty(settings.Webhook.Secret),
                settings.Email.Enabled
                    ? $"{settings.Email.Host}:{settings.Email.Port.ToString(CultureInfo.InvariantCulture)} ({(settings.Email.Security == SmtpSecurity.StartTls ? "STARTTLS" : "no TLS")}), from {settings.Email.From} to {settings.Email.To.Count} recipient(s)"
                    : null)
            : null;
        return PortalResult.Ok(new ExpiryOverview(buckets, status.Current, view, now));
    }
}
