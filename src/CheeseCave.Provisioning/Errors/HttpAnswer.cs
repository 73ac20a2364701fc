using System.Net.Http.Headers;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Diagnostics;

namespace CheeseCave.Provisioning.Errors;

/// <summary>A finished HTTP exchange: status, body text and the response headers.</summary>
internal sealed record HttpAnswer(int Status, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public TimeSpan? RetryAfter => ProvisioningErrorClassifier.ParseRetryAfter(Header("retry-after"), milliseconds: false);
}

/// <summary>
/// Sends HTTP requests for the DPS service and device clients: a fresh request per attempt, a client request id, a
/// per-attempt network timeout, the shared retry loop, and every non-success answer through the classifier.
/// </summary>
internal sealed class RetryingHttpSender(HttpClient http, ProvisioningRetryOptions retry, TimeProvider time, ProvisioningSurface surface)
{
    public Task<HttpAnswer> SendAsync(Func<HttpRequestMessage> build, string action, CancellationToken cancellationToken, params int[] acceptedStatuses) =>
        RetryLoop.RunAsync(retry, time, surface, action, (_, token) => SendOnceAsync(build, action, acceptedStatuses, token), cancellationToken);

    public async Task<HttpAnswer> SendOnceAsync(Func<HttpRequestMessage> build, string action, IReadOnlyCollection<int> acceptedStatuses, CancellationToken cancellationToken)
    {
        using var request = build();
        ProvisioningTelemetry.Server(request.RequestUri is { IsAbsoluteUri: true } absolute ? absolute : http.BaseAddress);
        var clientRequestId = Guid.NewGuid().ToString();
        request.Headers.TryAddWithoutValidation("x-ms-client-request-id", clientRequestId);
        using var timeout = new CancellationTokenSource(retry.NetworkTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            var headers = Headers(response);
            var status = (int)response.StatusCode;
            if ((status >= 200 && status < 300) || acceptedStatuses.Contains(status))
            {
                return new HttpAnswer(status, body, headers);
            }

            throw ProvisioningErrorClassifier.FromResponse(surface, status, body, name => headers.TryGetValue(name, out var value) ? value : null, clientRequestId, action);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw ProvisioningErrorClassifier.FromException(surface, new TimeoutException($"No answer within {retry.NetworkTimeout.TotalSeconds:0.#} s.", ex), clientRequestId, action)!;
        }
        catch (Exception ex) when (ex is not ProvisioningException && !cancellationToken.IsCancellationRequested
            && ProvisioningErrorClassifier.FromException(surface, ex, clientRequestId, action) is { } mapped)
        {
            throw mapped;
        }
    }

    private static Dictionary<string, string> Headers(HttpResponseMessage response)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        void Add(HttpHeaders source)
        {
            foreach (var (name, values) in source)
            {
                headers[name] = string.Join(",", values);
            }
        }

        Add(response.Headers);
        Add(response.Content.Headers);
        return headers;
    }
}
