using CheeseCave.Pki;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Security;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CheeseCave.Portal.Tests.Accounts;

public sealed class SetupLinkLifecycleTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "cheesecave-restart-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_restart_before_setup_replaces_the_link_and_a_restart_after_setup_prints_none()
    {
        Uri firstLink;
        await using (var first = new PortalFactory { DataDirectory = _dataDirectory, KeepData = true })
        {
            _ = first.Services;
            firstLink = first.SetupLinks.Only.Url;
        }

        await using (var second = new PortalFactory { DataDirectory = _dataDirectory, KeepData = true })
        {
            _ = second.Services;
            var secondLink = second.SetupLinks.Only.Url;
            Assert.NotEqual(firstLink, secondLink);

            var onboarding = second.Services.GetRequiredService<AccountOnboarding>();
            Assert.False(await onboarding.IsSetupLinkValidAsync(firstLink.AbsolutePath["/setup/".Length..]));
            var (result, _) = await onboarding.CompleteSetupAsync(secondLink.AbsolutePath["/setup/".Length..], "root", TestPasswords.Default);
            Assert.True(result.Succeeded, result.ErrorText);
        }

        await using (var third = new PortalFactory { DataDirectory = _dataDirectory, KeepData = true })
        {
            _ = third.Services;
            Assert.Empty(third.SetupLinks.Links);
            Assert.Equal(2, await third.WithDbAsync(db => db.SetupTokens.CountAsync(t => t.UsedAt != null)));

            // The key ring survives restarts: a key stored now is readable by the next start.
            await using var scope = third.Services.CreateAsyncScope();
            using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
            await scope.ServiceProvider.GetRequiredService<IKeyStore>().SaveAsync("restart-ca", key);
        }

        await using (var fourth = new PortalFactory { DataDirectory = _dataDirectory, KeepData = true })
        {
            await using var scope = fourth.Services.CreateAsyncScope();
            using var reopened = await scope.ServiceProvider.GetRequiredService<IKeyStore>().OpenAsync("restart-ca");
            Assert.Equal(KeyAlgorithm.EcdsaP256, reopened.Algorithm);
            var stored = await fourth.WithDbAsync(db => db.ProtectedKeys.AsNoTracking().SingleAsync());
            Assert.Equal("system", stored.CreatedBy); // no signed-in user in a background scope
        }
    }

    [Fact]
    public void The_default_sink_logs_the_link_once_at_warning_level_saying_it_is_single_use_and_short_lived()
    {
        var logger = new ListLogger<LogSetupTokenSink>();
        var link = new SetupLink(new Uri("http://127.0.0.1:5080/setup/" + OneTimeToken.Create()), DateTimeOffset.Parse("2026-12-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

        new LogSetupTokenSink(logger).Publish(link);

        var (level, message) = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, level);
        Assert.Contains(link.Url.ToString(), message, StringComparison.Ordinal);
        Assert.Contains("works once", message, StringComparison.Ordinal);
        Assert.Contains("2026-12-01 12:00:00Z", message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private sealed class ListLogger<T> : ILogger<T>
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }
}
