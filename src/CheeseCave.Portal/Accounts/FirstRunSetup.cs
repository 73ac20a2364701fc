using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Hosting;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Accounts;

/// <summary>A first-run setup link: the full URL carries the one-time token.</summary>
public sealed record SetupLink(Uri Url, DateTimeOffset ExpiresAt);

/// <summary>Where the first-run setup link goes. The default writes it to the log once; tests capture it instead.</summary>
public interface ISetupTokenSink
{
    void Publish(SetupLink link);
}

/// <summary>
/// Prints the setup link at Warning level, once per start while no user exists. This is the only log message
/// that ever carries a secret: the link works once and expires after 24 hours, and a restart replaces it.
/// </summary>
public sealed partial class LogSetupTokenSink(ILogger<LogSetupTokenSink> logger) : ISetupTokenSink
{
    public void Publish(SetupLink link)
    {
        ArgumentNullException.ThrowIfNull(link);
        LogSetupLink(logger, link.Url, link.ExpiresAt);
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message =
        "No administrator exists yet. To create the first administrator, open this one-time setup link: {SetupUrl} " +
        "It works once and expires at {ExpiresAt:u}; restarting the portal before then replaces it with a new link. " +
        "Treat it like a password: anyone who opens it first becomes the administrator.")]
    private static partial void LogSetupLink(ILogger logger, Uri setupUrl, DateTimeOffset expiresAt);
}

/// <summary>
/// At start-up, when the database holds no user: retires any earlier setup link, stores the SHA-256 of a fresh
/// token (valid 24 hours) and, once the server listens, hands the link to <see cref="ISetupTokenSink"/>.
/// </summary>
public sealed class FirstRunSetup(
    IServiceScopeFactory scopes,
    ISetupTokenSink sink,
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<CheeseCaveOptions> options,
    TimeProvider time) : IHostedService
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        if (await db.Users.AnyAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var now = time.GetUtcNow();
        foreach (var earlier in await db.SetupTokens.Where(t => t.UsedAt == null).ToListAsync(cancellationToken).ConfigureAwait(false))
        {
            earlier.UsedAt = now;
        }

        var token = OneTimeToken.Create();
        var expiresAt = now + Lifetime;
        db.SetupTokens.Add(new SetupToken { TokenHash = OneTimeToken.Hash(token), CreatedAt = now, ExpiresAt = expiresAt });
        db.AuditEntries.Add(Actor.System.Audit(now, AuditActions.SetupLinkIssued, null, AuditOutcomes.Succeeded, $"expires {expiresAt:u}"));
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);

        // The server's addresses are known only once it listens.
        lifetime.ApplicationStarted.Register(() => sink.Publish(new SetupLink(new Uri(BaseUri(), "setup/" + token), expiresAt)));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary><c>CheeseCave:PublicUrl</c> when set, otherwise the first address the server listens on.</summary>
    private Uri BaseUri()
    {
        var configured = options.Value.PublicUrl;
        var address = !string.IsNullOrWhiteSpace(configured)
            ? configured
            : server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://localhost";

        // Wildcard bindings are not addresses a browser can open.
        address = address.Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal)
            .Replace("://[::]", "://localhost", StringComparison.Ordinal)
            .Replace("://+", "://localhost", StringComparison.Ordinal)
            .Replace("://*", "://localhost", StringComparison.Ordinal);
        return new Uri(address.EndsWith('/') ? address : address + "/");
    }
}
