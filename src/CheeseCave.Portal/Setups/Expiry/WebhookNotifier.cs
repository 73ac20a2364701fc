using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Setups.Expiry;

/// <summary>
/// POSTs the notice as JSON to the configured URL (Teams and Slack incoming webhooks read its "text"). Server errors,
/// 408, 429 and timeouts are retried with doubling waits, or after the receiver's Retry-After when it gives one (capped
/// by MaxBackoff); any other answer is final. With a secret, the body is signed (HMAC-SHA256) so the receiver can
/// check it came from this portal.
/// </summary>
public sealed class WebhookNotifier(IHttpClientFactory clients, IOptions<ExpiryWatchOptions> options, TimeProvider time) : IExpiryNotifier
{
    public const string ClientName = "cheesecave-expiry-webhook";
    public const string SignatureHeader = "X-CheeseCave-Signature";

    public string Channel => "webhook";

    public bool IsEnabled => options.Value.Webhook.IsEnabled;

    /// <summary>The receiver's scheme and host, for messages and the overview (its path may carry a token).</summary>
    public static string Describe(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/…" : "(invalid)";

    public async Task SendAsync(ExpiryMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var settings = options.Value.Webhook;
        var body = message.ToJson();
        var signature = string.IsNullOrEmpty(settings.Secret)
            ? null
            : "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(settings.Secret), Encoding.UTF8.GetBytes(body)));
        var receiver = Describe(settings.Url!);
        var client = clients.CreateClient(ClientName);
        string? lastProblem = null;
        for (var attempt = 1; attempt <= settings.MaxAttempts; attempt++)
        {
            TimeSpan? retryAfter = null;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(settings.Timeout);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                if (signature is not null)
                {
                    request.Headers.TryAddWithoutValidation(SignatureHeader, signature);
                }

                if (!string.IsNullOrWhiteSpace(settings.HeaderName))
                {
                    request.Headers.TryAddWithoutValidation(settings.HeaderName, settings.HeaderValue);
                }

                using var response = await client.SendAsync(request, timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                var status = (int)response.StatusCode;
                lastProblem = $"the webhook at {receiver} answered {status.ToString(CultureInfo.InvariantCulture)} {response.ReasonPhrase}";
                if (!(status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests))
                {
                    throw new ExpiryDeliveryException($"{Capitalized(lastProblem)}; check the URL and the receiver's settings (not retried).");
                }

                retryAfter = RetryAfter(response.Headers.RetryAfter);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                lastProblem = $"the webhook at {receiver} did not answer within {settings.Timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} seconds";
            }
            catch (HttpRequestException ex)
            {
                lastProblem = $"the webhook at {receiver} could not be reached ({ex.HttpRequestError})";
            }

            if (attempt < settings.MaxAttempts)
            {
                var backoff = retryAfter ?? settings.InitialBackoff * Math.Pow(2, attempt - 1);
                await Task.Delay(backoff > settings.MaxBackoff ? settings.MaxBackoff : backoff, time, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new ExpiryDeliveryException($"{Capitalized(lastProblem!)} after {settings.MaxAttempts.ToString(CultureInfo.InvariantCulture)} attempt(s); the next check tries again.");
    }

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date > time.GetUtcNow() ? date - time.GetUtcNow() : TimeSpan.Zero,
        _ => null,
    };

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
