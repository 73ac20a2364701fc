using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Expiry;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Tests.Setups.Expiry;

/// <summary>
/// One portal with a verified setup and five issued devices. Tests move the certificates' end of validity in the
/// database (as time passing would) and run the real check with real notifiers against receivers they start.
/// </summary>
public sealed class ExpiryWorld : IAsyncLifetime
{
    public PortalFactory Factory { get; } = new();

    public int SetupId { get; private set; }

    public int RootId { get; private set; }

    public IReadOnlyList<int> DeviceIds { get; private set; } = [];

    /// <summary>"Now" for the tests' fake clocks.</summary>
    public DateTimeOffset Now { get; } = new(DateTimeOffset.UtcNow.UtcDateTime.Date.AddHours(9), TimeSpan.Zero);

    public async Task InitializeAsync()
    {
        await Factory.CreateUserAsync("expiry-op", PortalRoles.Operator);
        var op = await Factory.PrincipalForAsync("expiry-op");
        await using var scope = Factory.Services.CreateAsyncScope();
        var wizard = new SetupSlices(scope.ServiceProvider);
        SetupId = await SetupSteps.VerifiedSetupAsync(wizard, op, "expirycave");
        RootId = (await wizard.Setups.GetAsync(op, SetupId)).Value!.Root!.Id;
        var batch = await wizard.Devices.IssueDevicesAsync(op, SetupId, ["exp-001", "exp-002", "exp-003", "exp-004", "exp-005"]);
        Assert.True(batch.Succeeded, batch.Error?.Message);
        DeviceIds = [.. batch.Value!.Devices.Select(d => d.Id)];
    }

    public Task DisposeAsync() => Factory.DisposeAsync().AsTask();

    /// <summary>No notices sent yet, nothing revoked or superseded, every certificate valid for years.</summary>
    public Task ResetAsync() => Factory.WithDbAsync(async db =>
    {
        await db.ExpiryNotifications.ExecuteDeleteAsync();
        var far = Now.AddYears(5);
        await db.SetupDevices.ExecuteUpdateAsync(u => u.SetProperty(d => d.NotAfter, far).SetProperty(d => d.RevokedAt, (DateTimeOffset?)null)
            .SetProperty(d => d.SupersededByDeviceId, (int?)null));
        await db.SetupCertificates.ExecuteUpdateAsync(u => u.SetProperty(c => c.NotAfter, far).SetProperty(c => c.RetiredAt, (DateTimeOffset?)null));
        return true;
    });

    public Task EndsInAsync(int deviceId, TimeSpan fromNow) => Factory.WithDbAsync(db =>
    {
        var at = Now + fromNow;
        return db.SetupDevices.Where(d => d.Id == deviceId).ExecuteUpdateAsync(u => u.SetProperty(d => d.NotAfter, at));
    });

    public Task CaEndsInAsync(TimeSpan fromNow) => Factory.WithDbAsync(db =>
    {
        var at = Now + fromNow;
        return db.SetupCertificates.Where(c => c.Id == RootId).ExecuteUpdateAsync(u => u.SetProperty(c => c.NotAfter, at));
    });

    /// <summary>The real check and notifiers over this portal's database, with these settings and this clock.</summary>
    public ExpiryCheck Check(ExpiryWatchOptions settings, TimeProvider time)
    {
        var options = Options.Create(settings);
        IExpiryNotifier[] notifiers =
        [
            new WebhookNotifier(Factory.Services.GetRequiredService<IHttpClientFactory>(), options, TimeProvider.System),
            new EmailNotifier(options, TimeProvider.System),
        ];
        return new ExpiryCheck(Factory.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>(), notifiers, Factory.Services.GetRequiredService<AuditLog>(), time,
            options, Options.Create(new CheeseCaveOptions { PublicUrl = "https://cave.example" }));
    }

    public ExpiryWatch Watch(ExpiryCheck check, ExpiryWatchStatus status, ExpiryWatchOptions settings, TimeProvider time) =>
        new(check, status, Factory.Services.GetRequiredService<CheeseCave.Portal.Cluster.ClusterLeases>(), Options.Create(settings), time, NullLogger<ExpiryWatch>.Instance);

    public Task<List<ExpiryNotification>> NotificationsAsync() => Factory.WithDbAsync(db => db.ExpiryNotifications.AsNoTracking().OrderBy(n => n.Id).ToListAsync());

    public Task<List<AuditEntry>> NoticeAuditAsync() =>
        Factory.WithDbAsync(db => db.AuditEntries.AsNoTracking().Where(a => a.Action == AuditActions.CertificateExpiryNotified).OrderBy(a => a.Id).ToListAsync());
}
