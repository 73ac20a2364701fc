using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using CheeseCave.Emulator.Hosting;

namespace CheeseCave.Benchmarks;

/// <summary>What one timed run of the telemetry benchmark saw at the service side.</summary>
internal sealed class TelemetryRunStats(int run, long[] firstCounters, int expected)
{
    private readonly long[] _nextCounter = (long[])firstCounters.Clone();
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Run { get; } = run;

    public int Expected { get; } = expected;

    public double[] Latencies { get; } = new double[expected];

    public int Received { get; private set; }

    /// <summary>Messages of a device that came after a later one of the same device (a repeat or a reordering).</summary>
    public int OutOfOrder { get; private set; }

    /// <summary>Messages of a device that were skipped: a later one came first and they never did (lost, not reordered).</summary>
    public int Skipped { get; private set; }

    public Task Complete => _complete.Task;

    public void Add(int device, long counter, double latencyMs)
    {
        if (counter < _nextCounter[device])
        {
            OutOfOrder++;
        }
        else
        {
            Skipped += (int)(counter - _nextCounter[device]);
            _nextCounter[device] = counter + 1;
        }

        if (Received < Latencies.Length) Latencies[Received] = latencyMs;
        if (++Received == Expected) _complete.TrySetResult();
    }
}

/// <summary>
/// The service side of the telemetry benchmark: one HTTPS connection to the hub's telemetry stream
/// (GET /messages/events/stream, server-sent events, the hub owner's SAS), reading every message as a service would
/// and timing it from the send time the device wrote into the body.
/// </summary>
internal sealed class TelemetryStreamReader : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private TelemetryRunStats? _current;
    private long _lastSequence;

    private TelemetryStreamReader(HttpClient client) => _client = client;

    /// <summary>Messages skipped by a jump in sequence numbers (the reader fell past the hub's retention).</summary>
    public long Lost { get; private set; }

    /// <summary>Messages read outside any run (late ones of a warm-up).</summary>
    public long Unattributed { get; private set; }

    public string? Failure { get; private set; }

    /// <summary>Reads that returned data from the stream (about one per flush of the emulator's stream).</summary>
    public long Reads { get; private set; }

    public static TelemetryStreamReader Start(EmulatorServer server, string sharedAccessSignature, long after)
    {
        var ca = server.Context.Tls.CaCertificate;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions =
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { ca },
                    RevocationMode = X509RevocationMode.NoCheck,
                    DisableCertificateDownloads = true,
                },
            },
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{server.HttpsPort}"), Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = AuthenticationHeaderValue.Parse(sharedAccessSignature);
        var reader = new TelemetryStreamReader(client) { _lastSequence = after };
        reader._loop = Task.Run(reader.ReadLoopAsync);
        return reader;
    }

    public void Begin(TelemetryRunStats stats) => Volatile.Write(ref _current, stats);

    private async Task ReadLoopAsync()
    {
        try
        {
            using var response = await _client.GetAsync($"/messages/events/stream?after={_lastSequence}&api-version=2021-04-12", HttpCompletionOption.ResponseHeadersRead, _stop.Token);
            response.EnsureSuccessStatusCode();
            var pipe = PipeReader.Create(await response.Content.ReadAsStreamAsync(_stop.Token));
            while (true)
            {
                var result = await pipe.ReadAsync(_stop.Token);
                var buffer = result.Buffer;
                Reads++;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    if (line.IsSingleSegment) Handle(line.FirstSpan);
                    else Handle(line.ToArray());
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                }

                pipe.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted) break;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException)
        {
            Failure = ex.Message;
        }
    }

    private void Handle(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith("data: "u8)) return; // id lines (the sequence is in the data too), blank lines, comments
        long sequence = 0, counter = -1, sent = 0;
        int run = -1, device = -1;
        var json = new Utf8JsonReader(line[6..]);
        var inBody = false;
        while (json.Read())
        {
            if (json.TokenType == JsonTokenType.EndObject && json.CurrentDepth == 1) inBody = false;
            if (json.TokenType != JsonTokenType.PropertyName) continue;
            if (json.CurrentDepth == 1)
            {
                if (json.ValueTextEquals("sequenceNumber"u8) && json.Read()) sequence = json.GetInt64();
                else if (json.ValueTextEquals("body"u8)) inBody = true;
            }
            else if (inBody && json.CurrentDepth == 2)
            {
                if (json.ValueTextEquals("r"u8) && json.Read()) run = json.GetInt32();
                else if (json.ValueTextEquals("d"u8) && json.Read()) device = json.GetInt32();
                else if (json.ValueTextEquals("n"u8) && json.Read()) counter = json.GetInt64();
                else if (json.ValueTextEquals("sent"u8) && json.Read()) sent = json.GetInt64();
            }
        }

        var latency = (Stopwatch.GetTimestamp() - sent) * 1000.0 / Stopwatch.Frequency;
        if (sequence != _lastSequence + 1) Lost += sequence - _lastSequence - 1;
        _lastSequence = sequence;
        var current = Volatile.Read(ref _current);
        if (current is not null && current.Run == run && device >= 0) current.Add(device, counter, latency);
        else Unattributed++;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _client.Dispose();
        _stop.Dispose();
    }
}
