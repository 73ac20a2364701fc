using Azure.Core;
using CheeseCave.Portal.Security.Entra;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Security.Entra;

/// <summary>The persistent token cache: survives a restart, honours expiry, keeps to its file.</summary>
public sealed class SqliteTokenCacheTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cheesecave-token-cache-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _time = new() { Now = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero) };

    [Fact]
    public async Task An_entry_survives_a_new_instance_on_the_same_folder()
    {
        await new SqliteTokenCache(_folder, _time).SetAsync("user-1", [1, 2, 3], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromDays(1) });

        var restarted = new SqliteTokenCache(_folder, _time);

        Assert.Equal([1, 2, 3], await restarted.GetAsync("user-1"));
        Assert.Null(await restarted.GetAsync("user-2"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, SqliteTokenCache.FileName)));
        }
    }

    [Fact]
    public async Task Absolute_and_sliding_expiry_are_honoured()
    {
        var cache = new SqliteTokenCache(_folder, _time);
        await cache.SetAsync("absolute", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });
        await cache.SetAsync("sliding", [2], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });

        _time.Advance(TimeSpan.FromMinutes(8));
        Assert.NotNull(await cache.GetAsync("sliding")); // read: slides to minute 18
        _time.Advance(TimeSpan.FromMinutes(4));

        Assert.Null(await cache.GetAsync("absolute"));
        Assert.Equal([2], await cache.GetAsync("sliding"));
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Null(await cache.GetAsync("sliding"));
    }

    [Fact]
    public async Task Overwrite_and_remove()
    {
        var cache = new SqliteTokenCache(_folder, _time);
        await cache.SetAsync("k", [1], new DistributedCacheEntryOptions());
        await cache.SetAsync("k", [9, 9], new DistributedCacheEntryOptions());
        Assert.Equal([9, 9], await cache.GetAsync("k"));

        await cache.RemoveAsync("k");
        Assert.Null(await cache.GetAsync("k"));
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public void Advance(TimeSpan by) => Now += by;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
