using CheeseCave.Portal.Setups.Expiry;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Tests.Setups.Expiry;

/// <summary>The expiry watch's settings: defaults, and what stops the portal at start (naming the setting).</summary>
public sealed class ExpiryOptionsTests
{
    [Theory]
    [InlineData("Webhook:Url", "not a url", "Webhook:Url is not an http(s) address")]
    [InlineData("Webhook:Url", "ftp://example.com/hook", "Webhook:Url is not an http(s) address")]
    [InlineData("Email:Enabled", "true", "Email:Enabled is true but Email:Host is empty")]
    [InlineData("Interval", "00:00:05", "Interval is 00:00:05")]
    [InlineData("ThresholdDays:0", "0", "ThresholdDays lists 0")]
    public void Invalid_settings_stop_the_portal_at_start_with_a_clear_message(string key, string value, string expected)
    {
        using var factory = new PortalFactory();
        using var broken = factory.WithWebHostBuilder(b => b.UseSetting($"CheeseCave:ExpiryWatch:{key}", value));
        var thrown = Record.Exception(() => broken.Services);

        // The portal refuses to start. Which exception reaches the test is a race inside WebApplicationFactory: a host
        // that fails fast can be disposed before the factory reads its lifetime (ObjectDisposedException). So the
        // message is also checked at its source, the check the portal runs at start, fed the same setting.
        Assert.NotNull(thrown);
        if (thrown is OptionsValidationException validation)
        {
            Assert.Contains("CheeseCave:ExpiryWatch:" + expected, validation.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.IsType<ObjectDisposedException>(thrown);
        }

        var options = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"CheeseCave:ExpiryWatch:{key}"] = value })
            .Build()
            .GetSection("CheeseCave:ExpiryWatch")
            .Get<ExpiryWatchOptions>()!;
        Assert.Contains(ExpiryWatchOptionsCheck.Problems(options), problem => problem.Contains("CheeseCave:ExpiryWatch:" + expected, StringComparison.Ordinal));
    }

    [Fact]
    public void The_defaults_check_daily_at_90_and_30_days_with_no_channel_until_one_is_configured()
    {
        var options = new ExpiryWatchOptions();
        Assert.Equal((true, TimeSpan.FromDays(1)), (options.Enabled, options.Interval));
        Assert.Equal([30, 90], options.Thresholds);
        Assert.False(options.Webhook.IsEnabled);
        Assert.False(options.Email.Enabled);
        Assert.Equal(SmtpSecurity.StartTls, options.Email.Security);
        Assert.Empty(ExpiryWatchOptionsCheck.Problems(options));

        var email = new ExpiryWatchOptions { Email = new() { Enabled = true, Host = "smtp.example.com", From = "cave@example.com", To = ["x"], UserName = "u" } };
        Assert.Equal(
            ["CheeseCave:ExpiryWatch:Email:To lists 'x', which is not an e-mail address.",
             "CheeseCave:ExpiryWatch:Email:UserName is set without Email:Password; set the password (e.g. in an environment variable) or remove the user name."],
            ExpiryWatchOptionsCheck.Problems(email));
    }

    [Fact]
    public void The_nearest_threshold_crossed_is_the_one_notified()
    {
        var now = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
        int[] thresholds = [30, 90];
        Assert.Equal("90d", ExpiryCheck.Threshold(now.AddDays(90), now, thresholds));
        Assert.Equal("30d", ExpiryCheck.Threshold(now.AddDays(30), now, thresholds));
        Assert.Equal("30d", ExpiryCheck.Threshold(now.AddSeconds(1), now, thresholds));
        Assert.Equal("expired", ExpiryCheck.Threshold(now, now, thresholds));
    }
}
