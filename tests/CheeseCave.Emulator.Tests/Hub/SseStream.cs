using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Tests.Hub;

/// <summary>A server-sent event stream read the way a service would: events of "id:" and "data:" lines, blank line between.</summary>
internal sealed class SseStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<SseStream> OpenAsync(HttpClient client, string path, long? lastEventId = null)
    {
        var response = await SendAsync(client, path, lastEventId?.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    public static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path, string? lastEventId = null)
    {
        using var response = await SendAsync(client, path, lastEventId);
        return response.StatusCode;
    }

    /// <summary>The next <paramref name="count"/> events (comment lines skipped), within 15 s.</summary>
    public async Task<List<(long Id, JsonNode Data)>> ReadAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var events = new List<(long, JsonNode)>();
        long? id = null;
        while (events.Count < count)
        {
            var line = await _reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("The stream ended.");
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = long.Parse(line[4..], CultureInfo.InvariantCulture);
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((id ?? throw new InvalidDataException("An event without id."), JsonNode.Parse(line[6..])!));
                id = null;
            }
        }

        return events;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string path, string? lastEventId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is not null) request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
