using System.Text;
using Npgsql;

namespace CheeseCave.Portal.Cluster;

/// <summary>
/// The cluster bus on PostgreSQL's LISTEN/NOTIFY (ARCHITECTURE.md, "Several instances"): the database the instances
/// share anyway carries the notices, so there is no second server to run or secure. One dedicated connection listens;
/// a notice is "{instance}\n{topic}\n{payload}" on one channel, and an instance ignores its own. NOTIFY is delivered
/// only to sessions listening at the time, after the sending transaction commits, with payloads under 8,000 bytes;
/// a lost connection is re-opened with back-off and announced through <see cref="Reconnected"/>. Handlers run off the
/// listening connection, each notice on its own, so two notices may be handled in either order: they are hints to
/// re-read the database, never the state itself.
/// </summary>
public sealed partial class PostgresClusterBus(NpgsqlDataSource dataSource, PortalInstance instance, TimeProvider time, ILogger<PostgresClusterBus> logger)
    : BackgroundService, IClusterBus
{
    public const string Channel = "cheesecave_portal";

    /// <summary>PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more.</summary>
    private const int MaxMessageBytes = 7_900;

    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Func<string, Task>>> _handlers = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public event Action? Reconnected;

    /// <summary>Completes once the first LISTEN is in place (start-up and tests wait on it, not on time).</summary>
    public Task Listening => _listening.Task;

    public async Task PublishAsync(string topic, string payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(payload);
        var message = $"{instance.Id}\n{topic}\n{payload}";
        if (Encoding.UTF8.GetByteCount(message) > MaxMessageBytes)
        {
            throw new ArgumentException($"A cluster notice must stay under {MaxMessageBytes} bytes; send an id and let the others read the database.", nameof(payload));
        }

        await using var command = dataSource.CreateCommand("SELECT pg_notify(@channel, @message)");
        command.Parameters.AddWithValue("channel", Channel);
        command.Parameters.AddWithValue("message", message);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public IDisposable Subscribe(string topic, Func<string, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(handler);
        lock (_gate)
        {
            if (!_handlers.TryGetValue(topic, out var list))
            {
                _handlers[topic] = list = [];
            }

            list.Add(handler);
        }

        return new Subscription(this, topic, handler);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var connection = await dataSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    connection.Notification += OnNotification;
                    await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    {
                        await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                    }

                    backoff = TimeSpan.FromMilliseconds(250);
                    if (first)
                    {
                        first = false;
                        _listening.TrySetResult();
                    }
                    else
                    {
                        LogReconnected(logger);
                        Reconnected?.Invoke();
                    }

                    while (true)
                    {
                        // A quiet connection is checked now and then: a dead one would otherwise wait forever.
                        if (!await connection.WaitAsync(IdleCheck, stoppingToken).ConfigureAwait(false))
                        {
                            await using var ping = new NpgsqlCommand("SELECT 1", connection);
                            await ping.ExecuteScalarAsync(stoppingToken).ConfigureAwait(false);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                LogListenFailed(logger, ex, backoff);
                try
                {
                    await Task.Delay(backoff, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private void OnNotification(object? sender, NpgsqlNotificationEventArgs e)
    {
        var parts = e.Payload.Split('\n', 3);
        if (parts.Length != 3 || string.Equals(parts[0], instance.Id, StringComparison.Ordinal))
        {
            return;
        }

        Func<string, Task>[] handlers;
        lock (_gate)
        {
            handlers = _handlers.TryGetValue(parts[1], out var list) ? [.. list] : [];
        }

        foreach (var handler in handlers)
        {
            // Off the listening connection's thread: a handler reads the database, and the next notice must not wait.
            _ = Task.Run(() => DispatchAsync(handler, parts[1], parts[2]));
        }
    }

    private async Task DispatchAsync(Func<string, Task> handler, string topic, string payload)
    {
        try
        {
            await handler(payload).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // a failing subscriber is logged; the bus and the other subscribers go on
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogHandlerFailed(logger, ex, topic);
        }
    }

    private void Unsubscribe(string topic, Func<string, Task> handler)
    {
        lock (_gate)
        {
            if (_handlers.TryGetValue(topic, out var list))
            {
                list.Remove(handler);
            }
        }
    }

    private sealed class Subscription(PostgresClusterBus owner, string topic, Func<string, Task> handler) : IDisposable
    {
        public void Dispose() => owner.Unsubscribe(topic, handler);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster bus: listening on PostgreSQL failed; trying again in {Backoff}")]
    private static partial void LogListenFailed(ILogger logger, Exception exception, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster bus: listening on PostgreSQL again; pages re-read what they show")]
    private static partial void LogReconnected(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cluster bus: a subscriber to {Topic} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string topic);
}
