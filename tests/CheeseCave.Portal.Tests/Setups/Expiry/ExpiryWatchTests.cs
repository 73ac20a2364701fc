using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Setups.Expiry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace CheeseCave.Portal.Tests.Setups.Expiry;

[Collection(ExpiryGroup.Name)]
public sealed class ExpiryWatchTests(ExpiryWorld world)
{
    private static ExpiryWatchOptions Webhook(string url, int attempts = 4) => new()
    {
        Webhook = new WebhookNotifierOptions { Url = url, Secret = "hook-secret", HeaderName = "X-Api-Key", HeaderValue = "gateway-key", MaxAttempts = attempts, InitialBackoff = TimeSpan.FromMilliseconds(20) },
    };

    private static List<JsonElement> Certificates(WebhookReceiver.ReceivedPost post) =>
        [.. JsonDocument.Parse(post.Body).RootElement.GetProperty("certificates").EnumerateArray()];

    [Fact]
    public async Task A_webhook_gets_each_notice_once_with_a_text_structured_fields_and_a_signature()
    {
        await world.ResetAsync();
        await world.CaEndsInAsync(TimeSpan.FromDays(80));
        await world.EndsInAsync(world.DeviceIds[0], TimeSpan.FromDays(60));
        await world.EndsInAsync(world.DeviceIds[1], TimeSpan.FromDays(10));
        await world.EndsInAsync(world.DeviceIds[2], TimeSpan.FromDays(-2));
        await world.EndsInAsync(world.DeviceIds[3], TimeSpan.FromDays(5)); // revoked: never notifies
        await world.EndsInAsync(world.DeviceIds[4], TimeSpan.FromDays(5)); // superseded: never notifies
        await world.Factory.WithDbAsync(async db =>
        {
            var now = world.Now;
            await db.SetupDevices.Where(d => d.Id == world.DeviceIds[3]).ExecuteUpdateAsync(u => u.SetProperty(d => d.RevokedAt, now).SetProperty(d => d.RevokedBy, "someone"));
            return await db.SetupDevices.Where(d => d.Id == world.DeviceIds[4]).ExecuteUpdateAsync(u => u.SetProperty(d => d.SupersededByDeviceId, world.DeviceIds[0]));
        });

        await using var receiver = await WebhookReceiver.StartAsync();
        var auditedBefore = (await world.NoticeAuditAsync()).Count;
        var check = world.Check(Webhook(receiver.Url), new FakeTimeProvider(world.Now));
        var first = await check.RunAsync();
        var second = await check.RunAsync();

        var post = Assert.Single(receiver.Posts);
        Assert.Equal((4, 4, 0), (first.Due, first.Sent, first.Failed));
        Assert.Equal((4, 0, 4), (second.Due, second.Sent, second.AlreadySent));
        Assert.StartsWith("application/json", post.ContentType, StringComparison.Ordinal);
        var root = JsonDocument.Parse(post.Body).RootElement;
        var text = root.GetProperty("text").GetString()!;
        Assert.StartsWith("CheeseCave: 4 certificates expiring soon (1 already expired):", text, StringComparison.Ordinal);
        Assert.Contains("device exp-003 (setup expirycave) expired on", text, StringComparison.Ordinal);
        Assert.Contains("device exp-002 (setup expirycave) expires in 10 days", text, StringComparison.Ordinal);

        // CAs first, then devices soonest first; the nearest threshold each crossed.
        var certificates = Certificates(post);
        Assert.Equal(["ca", "device", "device", "device"], certificates.Select(c => c.GetProperty("kind").GetString()));
        Assert.Equal(["90d", "expired", "30d", "90d"], certificates.Select(c => c.GetProperty("threshold").GetString()));
        Assert.Equal(["exp-003", "exp-002", "exp-001"], certificates.Skip(1).Select(c => c.GetProperty("name").GetString()));
        Assert.Equal($"https://cave.example/certificates/devices/{world.DeviceIds[1]}", certificates[2].GetProperty("url").GetString());
        Assert.Equal(40, certificates[2].GetProperty("thumbprintSha1").GetString()!.Length);

        // The body is signed with the secret; a gateway header rides along.
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData("hook-secret"u8, Encoding.UTF8.GetBytes(post.Body))), post.Signature);
        Assert.Equal("gateway-key", post.ApiKey);

        var audit = (await world.NoticeAuditAsync()).Skip(auditedBefore).ToList();
        Assert.Equal(4, audit.Count);
        Assert.All(audit, a => Assert.Equal(("system", AuditOutcomes.Succeeded), (a.Actor, a.Outcome)));
        Assert.Contains(audit, a => a.Target == "setup " + world.SetupId + " device \"exp-002\"" && a.Detail!.StartsWith("30-day notice by webhook", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_503_is_retried_after_the_receivers_retry_after_and_then_delivered()
    {
        await world.ResetAsync();
        await world.EndsInAsync(world.DeviceIds[0], TimeSpan.FromDays(20));
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Reply(503, retryAfter: "1");

        var result = await world.Check(Webhook(receiver.Url), new FakeTimeProvider(world.Now)).RunAsync();

        Assert.Equal((1, 0), (result.Sent, result.Failed));
        Assert.Equal([503, 200], receiver.Posts.Select(p => p.AnsweredWith));
        Assert.Equal(receiver.Posts[0].Body, receiver.Posts[1].Body);
        Assert.True(receiver.Posts[1].At - receiver.Posts[0].At >= TimeSpan.FromSeconds(0.9), "the second attempt waited for Retry-After");
        Assert.Equal(ExpiryNotificationState.Sent, Assert.Single(await world.NotificationsAsync()).State);
    }

    [Fact]
    public async Task A_notice_that_could_not_be_delivered_is_sent_at_the_next_check()
    {
        await world.ResetAsync();
        await world.EndsInAsync(world.DeviceIds[0], TimeSpan.FromDays(20));
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Reply(500);
        receiver.Reply(502);
        var check = world.Check(Webhook(receiver.Url, attempts: 2), new FakeTimeProvider(world.Now));

        var failed = await check.RunAsync();
        var stored = Assert.Single(await world.NotificationsAsync());
        var retried = await check.RunAsync();

        Assert.Equal((0, 1), (failed.Sent, failed.Failed));
        Assert.Contains("answered 502", Assert.Single(failed.Problems), StringComparison.Ordinal);
        Assert.DoesNotContain("/hook", failed.Problems[0], StringComparison.Ordinal); // the URL's path may carry a token
        Assert.Equal(ExpiryNotificationState.Failed, stored.State);
        Assert.Equal((1, 0), (retried.Sent, retried.Failed));
        Assert.Equal([500, 502, 200], receiver.Posts.Select(p => p.AnsweredWith));
        var after = Assert.Single(await world.NotificationsAsync());
        Assert.Equal((ExpiryNotificationState.Sent, 2), (after.State, after.Attempts));
    }

    [Fact]
    public async Task Two_checks_running_at_once_send_each_notice_once()
    {
        await world.ResetAsync();
        foreach (var id in world.DeviceIds)
        {
            await world.EndsInAsync(id, TimeSpan.FromDays(25));
        }

        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = Webhook(receiver.Url);
        var results = await Task.WhenAll(
            Task.Run(() => world.Check(settings, new FakeTimeProvider(world.Now)).RunAsync()),
            Task.Run(() => world.Check(settings, new FakeTimeProvider(world.Now)).RunAsync()));

        var names = receiver.Posts.SelectMany(Certificates).Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Equal(["exp-001", "exp-002", "exp-003", "exp-004", "exp-005"], names.Order(StringComparer.Ordinal));
        Assert.Equal(5, results.Sum(r => r.Sent));
        Assert.Equal(5, results.Sum(r => r.AlreadySent));
    }

    [Fact]
    public async Task An_e_mail_reaches_a_real_smtp_server_with_every_certificate_in_it()
    {
        await world.ResetAsync();
        await world.CaEndsInAsync(TimeSpan.FromDays(29));
        await world.EndsInAsync(world.DeviceIds[1], TimeSpan.FromDays(3));
        await using var smtp = await SmtpReceiver.StartAsync();
        var settings = new ExpiryWatchOptions
        {
            Email = new EmailNotifierOptions
            {
                Enabled = true, Host = "127.0.0.1", Port = smtp.Port, Security = SmtpSecurity.None,
                From = "cheesecave@example.com", To = ["ops@example.com", "pki@example.com"],
            },
        };

        var check = world.Check(settings, new FakeTimeProvider(world.Now));
        var result = await check.RunAsync();
        var again = await check.RunAsync();

        Assert.Equal((2, 0, 0), (result.Sent, result.Failed, again.Sent));
        var mail = Assert.Single(smtp.Messages);
        Assert.Equal("CheeseCave: 2 certificates expiring soon", mail.Subject);
        Assert.Equal(["ops@example.com", "pki@example.com"], mail.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("cheesecave@example.com", mail.From.Mailboxes.Single().Address);
        var body = mail.TextBody!;
        Assert.True(body.IndexOf("CA \"", StringComparison.Ordinal) < body.IndexOf("device exp-002", StringComparison.Ordinal), "CAs come first");
        Assert.Contains("https://cave.example/certificates/cas/" + world.RootId, body, StringComparison.Ordinal);
        Assert.All(await world.NotificationsAsync(), n => Assert.Equal(("email", ExpiryNotificationState.Sent), (n.Channel, n.State)));
    }

    [Fact]
    public async Task The_watch_runs_at_start_and_each_interval_and_a_certificate_notifies_once_per_threshold()
    {
        await world.ResetAsync();
        await world.EndsInAsync(world.DeviceIds[0], TimeSpan.FromDays(95));
        await using var receiver = await WebhookReceiver.StartAsync();
        var time = new FakeTimeProvider(world.Now);
        var settings = Webhook(receiver.Url);
        var status = new ExpiryWatchStatus();
        var watch = world.Watch(world.Check(settings, time), status, settings, time);

        var firstRun = status.NextRunFinishedAsync();
        await watch.StartAsync(CancellationToken.None);
        var atStart = await firstRun;
        var thresholds = new List<string?>();
        foreach (var days in new[] { 10, 30, 40, 20 }) // 85 days left, 55, 15, then expired
        {
            var next = status.NextRunFinishedAsync();
            time.Advance(TimeSpan.FromDays(days));
            var run = await next;
            thresholds.Add(receiver.Posts.Count == 0 ? null : Certificates(receiver.Posts[^1]).Single().GetProperty("threshold").GetString());
            Assert.Equal(time.GetUtcNow() + settings.Interval, run.NextRunAt);
        }

        await watch.StopAsync(CancellationToken.None);
        Assert.Equal((0, 1), (atStart.LastResult!.Due, atStart.Runs)); // 95 days left: nothing due yet
        Assert.Equal(["90d", "90d", "30d", "expired"], thresholds); // the 55-day run sent nothing new
        Assert.Equal(3, receiver.Posts.Count);
        Assert.Equal(5, status.Current.Runs);
    }
}

[CollectionDefinition(Name)]
public sealed class ExpiryGroup : ICollectionFixture<ExpiryWorld>
{
    public const string Name = "Expiry watch";
}
