using System.Collections.Concurrent;
using CheeseCave.Portal.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CheeseCave.Portal.Automation.Tokens;

/// <summary>
/// Notes when each token was last used and writes it every few seconds, off the request path: a factory line's
/// requests then never wait on a write of their own (SQLite has one writer at a time, and it is signing's).
/// </summary>
public sealed class TokenUseRecorder(IDbContextFactory<PortalDbContext> contexts, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan FlushEvery = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<int, DateTimeOffset> _used = new();

    public void Used(int tokenId) => _used[tokenId] = time.GetUtcNow();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await FlushAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_used.IsEmpty)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        foreach (var tokenId in _used.Keys)
        {
            if (_used.TryRemove(tokenId, out var at))
            {
                await db.ApiTokens.Where(t => t.Id == tokenId && (t.LastUsedAt == null || t.LastUsedAt < at))
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, at), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
