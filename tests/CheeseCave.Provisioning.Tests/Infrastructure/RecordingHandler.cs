using System.Net.Http.Headers;

namespace CheeseCave.Provisioning.Tests.Infrastructure;

/// <summary>Records requests (method, path, If-Match, status) and can act before a request is forwarded.</summary>
public sealed class RecordingHandler(HttpMessageHandler inner, Func<HttpRequestMessage, int, Task>? before = null) : DelegatingHandler(inner)
{
    private int _count;

    public List<(string Method, string Path, string? IfMatch, int Status)> Requests { get; } = [];

    /// <summary>Requests sent, including those that never got an answer.</summary>
    public int Attempts => Volatile.Read(ref _count);

    public IEnumerable<(string Method, string Path, string? IfMatch, int Status)> Matching(string method, string pathEnd) =>
        Requests.Where(r => r.Method == method && r.Path.EndsWith(pathEnd, StringComparison.OrdinalIgnoreCase));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var number = Interlocked.Increment(ref _count);
        if (before is not null)
        {
            await before(request, number);
        }

        var ifMatch = request.Headers.TryGetValues("If-Match", out var values) ? string.Join(",", values) : null;
        var response = await base.SendAsync(request, cancellationToken);
        lock (Requests)
        {
            Requests.Add((request.Method.Method, request.RequestUri!.AbsolutePath, ifMatch, (int)response.StatusCode));
        }

        return response;
    }

    public static void SetIfMatch(HttpRequestMessage request, string value)
    {
        request.Headers.Remove("If-Match");
        request.Headers.TryAddWithoutValidation("If-Match", value);
    }

    public static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);
}
