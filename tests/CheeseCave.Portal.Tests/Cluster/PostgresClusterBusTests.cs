using CheeseCave.Portal.Cluster;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CheeseCave.Portal.Tests.Cluster;

/// <summary>The LISTEN/NOTIFY bus against a real PostgreSQL server: delivery, echo suppression, size limit, reconnect.</summary>
public sealed class PostgresClusterBusTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [PostgreSqlFact]
    public async Task A_notice_reaches_the_other_instance_but_not_its_sender_and_survives_a_cut_connection()
    {
        await using var source = NpgsqlDataSource.Create(TestDatabases.RequireServer());
        var (a, b) = (new PostgresClusterBus(source, new PortalInstance(), TimeProvider.System, NullLogger<PostgresClusterBus>.Instance),
            new PostgresClusterBus(source, new PortalInstance(), TimeProvider.System, NullLogger<PostgresClusterBus>.Instance));
        await a.StartAsync(CancellationToken.None);
        await b.StartAsync(CancellationToken.None);
        try
        {
            await Task.WhenAll(a.Listening, b.Listening).WaitAsync(Bound);
            var topic = "test-" + Guid.NewGuid().ToString("N");
            var onA = new System.Collections.Concurrent.BlockingCollection<string>();
            var onB = new System.Collections.Concurrent.BlockingCollection<string>();
            using var subA = a.Subscribe(topic, payload => { onA.Add(payload); return Task.CompletedTask; });
            using var subB = b.Subscribe(topic, payload => { onB.Add(payload); return Task.CompletedTask; });

            await a.PublishAsync(topic, "approval 12 | changed\nwith a new line");
            Assert.True(onB.TryTake(out var first, Bound));
            Assert.Equal("approval 12 | changed\nwith a new line", first);

            // B publishes; A receives it, and only it: an instance never hears itself (A's own first notice, sent on
            // the same channel before, did not come back).
            await b.PublishAsync(topic, "from b");
            Assert.True(onA.TryTake(out var fromB, Bound));
            Assert.Equal("from b", fromB);
            Assert.Empty(onA);

            var tooBig = await Assert.ThrowsAsync<ArgumentException>(() => a.PublishAsync(topic, new string('x', 8_000)));
            Assert.Contains("under 7900 bytes", tooBig.Message, StringComparison.Ordinal);

            // The server cuts B's listening session: B reconnects, says so, and hears what comes after.
            var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            b.Reconnected += () => reconnected.TrySetResult();
            await using (var kill = source.CreateCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN " + PostgresClusterBus.Channel + "' AND pid <> pg_backend_pid()"))
            {
                await kill.ExecuteNonQueryAsync();
            }

            await reconnected.Task.WaitAsync(Bound);
            await a.PublishAsync(topic, "after the cut");
            Assert.True(onB.TryTake(out var later, Bound));
            Assert.Equal("after the cut", later);
        }
        finally
        {
            await a.StopAsync(CancellationToken.None);
            await b.StopAsync(CancellationToken.None);
            a.Dispose();
            b.Dispose();
        }
    }

    [Fact]
    public void Several_instances_on_sqlite_or_a_heartbeat_too_slow_to_tell_are_refused_in_plain_words()
    {
        var onSqlite = new ClusterOptionsValidator(postgreSql: false).Validate(null, new CheeseCaveOptions { Cluster = new ClusterOptions { Instances = 2 } });
        Assert.True(onSqlite.Failed);
        Assert.Contains("the database is SQLite, which serves one instance: set CheeseCave:Database:Provider to PostgreSQL", onSqlite.FailureMessage, StringComparison.Ordinal);

        var tooTight = new ClusterOptionsValidator(postgreSql: true).Validate(null, new CheeseCaveOptions
        {
            Cluster = new ClusterOptions { Instances = 2, HeartbeatInterval = TimeSpan.FromSeconds(10), StaleAfter = TimeSpan.FromSeconds(15) },
        });
        Assert.True(tooTight.Failed);
        Assert.Contains("must be at least three heartbeats", tooTight.FailureMessage, StringComparison.Ordinal);

        Assert.True(new ClusterOptionsValidator(postgreSql: true).Validate(null, new CheeseCaveOptions { Cluster = new ClusterOptions { Instances = 2 } }).Succeeded);
        Assert.True(new ClusterOptionsValidator(postgreSql: false).Validate(null, new CheeseCaveOptions()).Succeeded);
    }
}
