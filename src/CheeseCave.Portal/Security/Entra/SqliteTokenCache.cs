using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Caching.Distributed;

namespace CheeseCave.Portal.Security.Entra;

/// <summary>
/// A small <see cref="IDistributedCache"/> in its own SQLite file under the data folder (<c>token-cache.db</c>), so
/// Microsoft.Identity.Web's token cache survives a restart: with the default in-memory cache a restarted portal
/// still accepts the user's cookie but holds no token for them ("No account or login hint was passed to the
/// AcquireTokenSilent call"). A separate file rather than a table in the portal database: the schema belongs to
/// this cache (created here, not by EF migrations), and deleting the file only makes users sign in again.
/// Entries are encrypted before they arrive (MsalDistributedTokenCacheAdapterOptions.Encrypt, Data Protection with
/// the portal's key ring), so the file holds no readable token.
/// </summary>
public sealed class SqliteTokenCache : IDistributedCache
{
    public const string FileName = "token-cache.db";

    private readonly string _connectionString;
    private readonly TimeProvider _time;

    public SqliteTokenCache(string dataDirectory, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();

        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS TokenCacheEntries (
                Id TEXT NOT NULL PRIMARY KEY,
                Value BLOB NOT NULL,
                ExpiresAt INTEGER NULL,
                SlidingSeconds INTEGER NULL,
                AbsoluteExpiresAt INTEGER NULL);
            CREATE INDEX IF NOT EXISTS IX_TokenCacheEntries_ExpiresAt ON TokenCacheEntries (ExpiresAt);
            """;
        command.ExecuteNonQuery();
        if (!OperatingSystem.IsWindows())
        {
            // Like the portal database: only the portal's user reads it.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        await using var connection = await OpenAsync(token).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Value, ExpiresAt, SlidingSeconds, AbsoluteExpiresAt FROM TokenCacheEntries WHERE Id = $id";
        command.Parameters.AddWithValue("$id", key);
        byte[] value;
        long? sliding, absolute;
        await using (var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(token).ConfigureAwait(false))
            {
                return null;
            }

            if (!reader.IsDBNull(1) && reader.GetInt64(1) <= now)
            {
                await reader.DisposeAsync().ConfigureAwait(false);
                await DeleteAsync(connection, key, token).ConfigureAwait(false);
                return null;
            }

            value = (byte[])reader.GetValue(0);
            sliding = reader.IsDBNull(2) ? null : reader.GetInt64(2);
            absolute = reader.IsDBNull(3) ? null : reader.GetInt64(3);
        }

        if (sliding is not null)
        {
            await TouchAsync(connection, key, now, sliding.Value, absolute, token).ConfigureAwait(false);
        }

        return value;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        var now = _time.GetUtcNow();
        DateTimeOffset? absolute = options.AbsoluteExpiration ?? (options.AbsoluteExpirationRelativeToNow is { } relative ? now + relative : null);
        long? sliding = options.SlidingExpiration is { } slide ? (long)slide.TotalSeconds : null;
        var nowSeconds = now.ToUnixTimeSeconds();
        var absoluteSeconds = absolute?.ToUnixTimeSeconds();
        var expires = Earliest(sliding is null ? null : nowSeconds + sliding, absoluteSeconds);

        await using var connection = await OpenAsync(token).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // Expired rows are dropped on every write, so the file does not grow with users who never came back.
        command.CommandText = """
            DELETE FROM TokenCacheEntries WHERE ExpiresAt IS NOT NULL AND ExpiresAt <= $now;
            INSERT INTO TokenCacheEntries (Id, Value, ExpiresAt, SlidingSeconds, AbsoluteExpiresAt)
            VALUES ($id, $value, $expires, $sliding, $absolute)
            ON CONFLICT (Id) DO UPDATE SET Value = excluded.Value, ExpiresAt = excluded.ExpiresAt,
                SlidingSeconds = excluded.SlidingSeconds, AbsoluteExpiresAt = excluded.AbsoluteExpiresAt;
            """;
        command.Parameters.AddWithValue("$now", nowSeconds);
        command.Parameters.AddWithValue("$id", key);
        command.Parameters.AddWithValue("$value", value);
        command.Parameters.AddWithValue("$expires", (object?)expires ?? DBNull.Value);
        command.Parameters.AddWithValue("$sliding", (object?)sliding ?? DBNull.Value);
        command.Parameters.AddWithValue("$absolute", (object?)absoluteSeconds ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
    }

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        _ = await GetAsync(key, token).ConfigureAwait(false);
    }

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var connection = await OpenAsync(token).ConfigureAwait(false);
        await DeleteAsync(connection, key, token).ConfigureAwait(false);
    }

    private static async Task DeleteAsync(SqliteConnection connection, string key, CancellationToken token)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM TokenCacheEntries WHERE Id = $id";
        command.Parameters.AddWithValue("$id", key);
        await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
    }

    private static async Task TouchAsync(SqliteConnection connection, string key, long now, long sliding, long? absolute, CancellationToken token)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE TokenCacheEntries SET ExpiresAt = $expires WHERE Id = $id";
        command.Parameters.AddWithValue("$id", key);
        command.Parameters.AddWithValue("$expires", Earliest(now + sliding, absolute)!);
        await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
    }

    private static long? Earliest(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken token)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(token).ConfigureAwait(false);
        return connection;
    }
}
