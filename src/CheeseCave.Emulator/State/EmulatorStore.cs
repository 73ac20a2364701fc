using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace CheeseCave.Emulator.State;

/// <summary>One kind of record, keyed case-insensitively where Azure names are.</summary>
internal sealed class Table<T>(string name)
    where T : class
{
    internal ConcurrentDictionary<string, T> Rows { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string Name { get; } = name;

    public T? Get(string key) => Rows.TryGetValue(key, out var value) ? value : null;

    /// <summary>
    /// The rows, enumerated without locking (ConcurrentDictionary.Values takes every lock of the dictionary and copies
    /// it, which serialized concurrent device registrations that scan the DPS, certificate and enrollment tables).
    /// </summary>
    public IEnumerable<T> All => Rows.Select(static row => row.Value);

    public int Count => Rows.Count;
}

/// <summary>
/// The emulator's state: typed tables in memory, made durable by an append-only journal (JSON lines) that is
/// flushed to disk before a write is acknowledged, and compacted into a snapshot at start-up and when it grows.
/// Writes are group-committed so many concurrent registrations share one fsync. Without a folder it is memory-only.
/// </summary>
internal sealed class EmulatorStore : IAsyncDisposable
{
    private const string SnapshotFile = "state.snapshot.json";
    private const string JournalFile = "state.journal";
    private const int CompactAfterLines = 50_000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly object _gate = new();
    private readonly string? _directory;
    private readonly Dictionary<string, ITable> _tables = new(StringComparer.Ordinal);
    private readonly Channel<(string Line, TaskCompletionSource Done)>? _journal;
    private readonly Task? _writer;
    private FileStream? _journalStream;
    private int _journalLines;

    private EmulatorStore(string? directory)
    {
        _directory = directory;
        ResourceGroups = Register<ResourceGroupEntity>("resourceGroups");
        ProvisioningServices = Register<ProvisioningServiceEntity>("provisioningServices");
        DpsCertificates = Register<DpsCertificateEntity>("dpsCertificates");
        IotHubs = Register<IotHubEntity>("iotHubs");
        Enrollments = Register<EnrollmentEntity>("enrollments");
        Registrations = Register<RegistrationEntity>("registrations");
        HubDevices = Register<HubDeviceEntity>("hubDevices");
        Operations = Register<RegistrationOperationEntity>("operations");
        if (directory is not null)
        {
            _journal = Channel.CreateUnbounded<(string, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
            _writer = Task.Run(WriteLoopAsync);
        }
    }

    private interface ITable
    {
        void Load(string key, JsonElement value);

        void Remove(string key);

        JsonObject Snapshot();
    }

    public Table<ResourceGroupEntity> ResourceGroups { get; }

    public Table<ProvisioningServiceEntity> ProvisioningServices { get; }

    public Table<DpsCertificateEntity> DpsCertificates { get; }

    public Table<IotHubEntity> IotHubs { get; }

    public Table<EnrollmentEntity> Enrollments { get; }

    public Table<RegistrationEntity> Registrations { get; }

    public Table<HubDeviceEntity> HubDevices { get; }

    public Table<RegistrationOperationEntity> Operations { get; }

    public bool IsDurable => _directory is not null;

    public static EmulatorStore InMemory() => new(null);

    /// <summary>Opens (or creates) the store in a folder, replaying what an earlier process acknowledged.</summary>
    public static async Task<EmulatorStore> OpenAsync(string directory, CancellationToken cancellationToken)
    {
        Hosting.OwnerOnly.CreateFolder(directory);
        var store = new EmulatorStore(directory);
        await store.LoadAsync(cancellationToken).ConfigureAwait(false);
        return store;
    }

    /// <summary>
    /// Runs a read-check-write step atomically with respect to other writers (etag checks live inside it) and
    /// completes once its writes are durable.
    /// </summary>
    public Task WriteAsync(Action<StoreTransaction> change)
    {
        lock (_gate)
        {
            var tx = new StoreTransaction(this);
            change(tx);

            // Queued under the lock: the journal must list transactions in the order they were applied in memory,
            // or two writes of one key racing between the lock and the queue replay in the wrong order after a
            // restart (the older value wins). Queuing is a non-blocking channel write; the fsync happens outside.
            return Persist(tx.Lines);
        }
    }

    /// <summary>Like <see cref="WriteAsync(Action{StoreTransaction})"/>, returning a result computed under the lock.</summary>
    public async Task<TResult> WriteAsync<TResult>(Func<StoreTransaction, TResult> change)
    {
        TResult result;
        Task durable;
        lock (_gate)
        {
            var tx = new StoreTransaction(this);
            result = change(tx);
            durable = Persist(tx.Lines); // under the lock, in apply order (see above)
        }

        await durable.ConfigureAwait(false);
        return result;
    }

    private Task Persist(List<string> lines)
    {
        if (_journal is null || lines.Count == 0)
        {
            return Task.CompletedTask;
        }

        // One journal entry per transaction, so a transaction is replayed whole or not at all.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entry = lines.Count == 1 ? lines[0] : "[" + string.Join(',', lines) + "]";
        if (!_journal.Writer.TryWrite((entry, done)))
        {
            done.SetException(new ObjectDisposedException(nameof(EmulatorStore)));
        }

        return done.Task;
    }

    internal string Put<T>(Table<T> table, string key, T value)
        where T : class
    {
        table.Rows[key] = value;
        return _journal is null ? string.Empty : JournalLine(table.Name, key, value);
    }

    /// <summary>
    /// The JournalEntry line of a put, written in one pass (it runs under the store lock: serializing the value to a
    /// JsonElement first and then the entry, as before, parsed and wrote every value twice).
    /// </summary>
    private static string JournalLine<T>(string table, string key, T value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("table", table);
            writer.WriteString("key", key);
            writer.WritePropertyName("value");
            JsonSerializer.Serialize(writer, value, Json);
            writer.WriteBoolean("deleted", false);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal string Delete<T>(Table<T> table, string key)
        where T : class
    {
        table.Rows.TryRemove(key, out _);
        return _journal is null ? string.Empty : JsonSerializer.Serialize(new JournalEntry(table.Name, key, null, true), Json);
    }

    private Table<T> Register<T>(string name)
        where T : class
    {
        var table = new Table<T>(name);
        _tables[name] = new TableAdapter<T>(table);
        return table;
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var snapshotPath = Path.Combine(_directory!, SnapshotFile);
        Hosting.OwnerOnly.Tighten(snapshotPath); // written 0644 by older versions
        Hosting.OwnerOnly.Tighten(Path.Combine(_directory!, JournalFile));
        if (File.Exists(snapshotPath))
        {
            var snapshot = JsonDocument.Parse(await File.ReadAllBytesAsync(snapshotPath, cancellationToken).ConfigureAwait(false));
            foreach (var table in snapshot.RootElement.EnumerateObject())
            {
                if (!_tables.TryGetValue(table.Name, out var adapter)) continue;
                foreach (var row in table.Value.EnumerateObject())
                {
                    adapter.Load(row.Name, row.Value);
                }
            }
        }

        var journalPath = Path.Combine(_directory!, JournalFile);
        if (File.Exists(journalPath))
        {
            foreach (var line in await File.ReadAllLinesAsync(journalPath, cancellationToken).ConfigureAwait(false))
            {
                if (line.Length == 0) continue;
                JsonDocument entry;
                try
                {
                    entry = JsonDocument.Parse(line);
                }
                catch (JsonException)
                {
                    break; // a torn last line: that write was never acknowledged
                }

                if (entry.RootElement.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in entry.RootElement.EnumerateArray()) Apply(item);
                }
                else
                {
                    Apply(entry.RootElement);
                }
            }
        }

        Compact();
    }

    private void Apply(JsonElement entry)
    {
        var journal = entry.Deserialize<JournalEntry>(Json)!;
        if (!_tables.TryGetValue(journal.Table, out var adapter)) return;
        if (journal.Deleted) adapter.Remove(journal.Key);
        else adapter.Load(journal.Key, journal.Value!.Value);
    }

    /// <summary>Writes a fresh snapshot and starts an empty journal (called when nothing else writes).</summary>
    private void Compact()
    {
        JsonObject snapshot;
        lock (_gate)
        {
            snapshot = new JsonObject();
            foreach (var (name, table) in _tables)
            {
                snapshot[name] = table.Snapshot();
            }
        }

        var snapshotPath = Path.Combine(_directory!, SnapshotFile);
        var temp = snapshotPath + ".tmp";
        File.Delete(temp); // a left-over from a crash keeps its old mode if opened over
        using (var stream = new FileStream(temp, Hosting.OwnerOnly.Create(FileMode.Create, FileAccess.Write, FileShare.None)))
        {
            stream.Write(Encoding.UTF8.GetBytes(snapshot.ToJsonString(Json)));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, snapshotPath, overwrite: true);
        _journalStream?.Dispose();
        _journalStream = new FileStream(Path.Combine(_directory!, JournalFile), Hosting.OwnerOnly.Create(FileMode.Create, FileAccess.Write));
        _journalStream.Flush(flushToDisk: true);
        _journalLines = 0;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _journal!.Reader;
        var batch = new List<TaskCompletionSource>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            try
            {
                while (_journalStream is null)
                {
                    await Task.Delay(1).ConfigureAwait(false); // LoadAsync has not opened the journal yet
                }

                var buffer = new StringBuilder();
                while (reader.TryRead(out var item))
                {
                    buffer.Append(item.Line).Append('\n');
                    batch.Add(item.Done);
                    _journalLines++;
                }

                await _journalStream.WriteAsync(Encoding.UTF8.GetBytes(buffer.ToString())).ConfigureAwait(false);
                _journalStream.Flush(flushToDisk: true);
                if (_journalLines > CompactAfterLines)
                {
                    Compact();
                }

                foreach (var done in batch) done.TrySetResult();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                foreach (var done in batch) done.TrySetException(ex);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_journal is not null)
        {
            _journal.Writer.TryComplete();
            await _writer!.ConfigureAwait(false);
        }

        if (_journalStream is not null)
        {
            await _journalStream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed record JournalEntry(string Table, string Key, JsonElement? Value, bool Deleted);

    private sealed class TableAdapter<T>(Table<T> table) : ITable
        where T : class
    {
        public void Load(string key, JsonElement value) => table.Rows[key] = value.Deserialize<T>(Json)!;

        public void Remove(string key) => table.Rows.TryRemove(key, out _);

        public JsonObject Snapshot()
        {
            var rows = new JsonObject();
            foreach (var (key, value) in table.Rows)
            {
                rows[key] = JsonSerializer.SerializeToNode(value, Json);
            }

            return rows;
        }
    }
}

/// <summary>The writes of one atomic step; reads go straight to the tables.</summary>
internal sealed class StoreTransaction
{
    private readonly EmulatorStore _store;

    internal StoreTransaction(EmulatorStore store) => _store = store;

    internal List<string> Lines { get; } = [];

    public void Put<T>(Table<T> table, string key, T value)
        where T : class
    {
        var line = _store.Put(table, key, value);
        if (line.Length > 0) Lines.Add(line);
    }

    public void Delete<T>(Table<T> table, string key)
        where T : class
    {
        var line = _store.Delete(table, key);
        if (line.Length > 0) Lines.Add(line);
    }
}
