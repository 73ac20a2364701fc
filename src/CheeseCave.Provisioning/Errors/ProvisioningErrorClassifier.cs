using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text.Json;
using Azure;

namespace CheeseCave.Provisioning.Errors;

/// <summary>
/// The one place that turns a failure of any of the three clients into a <see cref="ProvisioningException"/>:
/// it decides whether the failure is transient, reads the service error code, the correlation id and Retry-After,
/// and words a plain message. ARM's RequestFailedException, DPS error bodies ({errorCode, trackingId, message,
/// info}), MQTT response statuses and network exceptions all come through here. Cancellation is never mapped.
/// </summary>
public static class ProvisioningErrorClassifier
{
    /// <summary>429, 408 and every 5xx may succeed later; so may 0 (no answer at all).</summary>
    public static bool IsTransientStatus(int status) => status is 0 or 408 or 429 || status >= 500;

    /// <summary>
    /// Maps a non-success answer. <paramref name="header"/> looks up a response header (null when absent);
    /// <paramref name="clientRequestId"/> is the id this library sent, used when the service names no id of its own.
    /// </summary>
    public static ProvisioningException FromResponse(
        ProvisioningSurface surface, int status, string? body, Func<string, string?>? header, string? clientRequestId, string action)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        return Create(ResponseDetails(surface, status, body, header, clientRequestId, action, null), null);
    }

    private static ProvisioningErrorDetails ResponseDetails(
        ProvisioningSurface surface, int status, string? body, Func<string, string?>? header, string? clientRequestId, string action, string? fallbackCode)
    {
        header ??= _ => null;
        var parsed = ParseBody(body);
        var code = parsed.Code ?? header("x-ms-error-code") ?? fallbackCode;
        var correlation = parsed.TrackingId ?? header("x-ms-request-id") ?? header("x-ms-correlation-request-id")
            ?? header("x-ms-client-request-id") ?? header("Request-Id") ?? clientRequestId;
        var retryAfter = ParseRetryAfter(header("retry-after-ms"), milliseconds: true)
            ?? ParseRetryAfter(header("x-ms-retry-after-ms"), milliseconds: true)
            ?? ParseRetryAfter(header("Retry-After"), milliseconds: false);
        var text = parsed.Message ?? DefaultText(status);
        return new ProvisioningErrorDetails(surface, status, $"Could not {action}: {text}", code, correlation, IsTransientStatus(status), retryAfter, parsed.Info);
    }

    /// <summary>Maps Azure.Core's RequestFailedException (ARM calls through ArmClient or its pipeline).</summary>
    public static ProvisioningException FromArm(RequestFailedException exception, string action)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        var response = exception.GetRawResponse();
        if (exception.Status == 0 || response is null)
        {
            // No HTTP answer: Azure.Core wraps the transport failure (connection reset, TLS, DNS).
            var inner = exception.InnerException ?? exception;
            var tls = inner is AuthenticationException || inner.InnerException is AuthenticationException;
            var details = new ProvisioningErrorDetails(ProvisioningSurface.Arm, 0,
                $"Could not {action}: {(tls ? "the TLS connection could not be established (is the server's certificate trusted?)" : "the network connection failed")} ({FirstLine(inner.Message)}).",
                null, response?.ClientRequestId, IsTransient: !tls);
            return Create(details, exception);
        }

        string? Header(string name) => response.Headers.TryGetValue(name, out var value) ? value : null;
        string? body = null;
        try
        {
            body = response.Content?.ToString();
        }
        catch (InvalidOperationException)
        {
            // the content stream was not buffered
        }

        return Create(ResponseDetails(ProvisioningSurface.Arm, exception.Status, body, Header, response.ClientRequestId, action, exception.ErrorCode), exception);
    }

    /// <summary>
    /// Maps an exception that carried no service answer (network, TLS, timeout), or returns null when it is not one
    /// this classifier knows (a bug: let it surface). Never call it for a cancellation the caller asked for.
    /// </summary>
    public static ProvisioningException? FromException(ProvisioningSurface surface, Exception exception, string? clientRequestId, string action)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        switch (exception)
        {
            case ProvisioningException known:
                return known;
            case AggregateException { InnerExceptions.Count: > 0 } aggregate:
                // Azure.Core's retry policy, out of retries after exceptions: "Retry failed after N tries". The last
                // attempt's failure is what the caller needs; it names how many attempts were made.
                var last = FromException(surface, aggregate.InnerExceptions[^1], clientRequestId, action);
                if (last is null) return null;
                var tried = aggregate.InnerExceptions.Count;
                var details = new ProvisioningErrorDetails(last.Surface, last.Status, tried > 1 ? $"{last.Message.TrimEnd()} (gave up after {tried} attempts)" : last.Message,
                    last.ServiceErrorCode, last.CorrelationId, last.IsTransient, last.RetryAfter, last.Info);
                return last is ResourceChangedException ? new ResourceChangedException(details, aggregate) : new ProvisioningException(details, aggregate);
            case RequestFailedException failed:
                return FromArm(failed, action);
            case OperationCanceledException:
                // Not the caller's token (the caller checks that first): an HttpClient or MQTT timeout.
                return Create(new ProvisioningErrorDetails(surface, 0, $"Could not {action}: the service did not answer in time.", null, clientRequestId, IsTransient: true), exception);
            case AuthenticationException:
            case HttpRequestException { InnerException: AuthenticationException }:
                return Create(new ProvisioningErrorDetails(surface, 0,
                    $"Could not {action}: the TLS connection could not be established ({FirstLine(exception.InnerException?.Message ?? exception.Message)}). Check that the server's certificate is trusted and, for devices, that the certificate has its private key.",
                    null, clientRequestId, IsTransient: false), exception);
            case HttpRequestException:
            case IOException:
            case SocketException:
            case TimeoutException:
                return Create(new ProvisioningErrorDetails(surface, 0,
                    $"Could not {action}: the network connection failed ({FirstLine(exception.Message)}).", null, clientRequestId, IsTransient: true), exception);
            default:
                if (exception.GetType().Namespace?.StartsWith("MQTTnet", StringComparison.Ordinal) == true)
                {
                    // MqttCommunicationException, MqttCommunicationTimedOutException, ...: the MQTT connection failed.
                    return Create(new ProvisioningErrorDetails(surface, 0,
                        $"Could not {action}: the MQTT connection failed ({FirstLine(exception.Message)}).", null, clientRequestId, IsTransient: true), exception);
                }

                return null;
        }
    }

    private static ProvisioningException Create(ProvisioningErrorDetails details, Exception? inner) =>
        details.Status == 412 ? new ResourceChangedException(details with { Message = details.Message.TrimEnd() + " The resource changed since it was read; read it again." }, inner)
            : new ProvisioningException(details, inner);

    private static string DefaultText(int status) => status switch
    {
        400 => "the service refused the request as invalid (HTTP 400).",
        401 => "the service did not accept the credentials (HTTP 401).",
        403 => "the credentials lack the rights for this (HTTP 403).",
        404 => "it was not found (HTTP 404).",
        409 => "it conflicts with the current state (HTTP 409).",
        412 => "the etag did not match (HTTP 412).",
        429 => "the service is throttling requests (HTTP 429).",
        _ when status >= 500 => $"the service is unavailable or failed (HTTP {status}).",
        _ => $"the service answered HTTP {status}.",
    };

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "..." : line;
    }

    internal static TimeSpan? ParseRetryAfter(string? value, bool milliseconds)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        value = value.Trim();
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0)
        {
            return milliseconds ? TimeSpan.FromMilliseconds(number) : TimeSpan.FromSeconds(number);
        }

        if (!milliseconds && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var delay = date - DateTimeOffset.UtcNow;
            return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
        }

        return null;
    }

    private sealed record ParsedBody(string? Code, string? Message, string? TrackingId, IReadOnlyDictionary<string, string>? Info);

    /// <summary>ARM {"error":{code,message}} or flat {code,message}; DPS {errorCode,trackingId,message,info}; IoT Hub {"Message":"ErrorCode:X;text"}.</summary>
    private static ParsedBody ParseBody(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return new(null, null, null, null);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return new(null, null, null, null);
            var error = root.TryGetProperty("error", out var nested) && nested.ValueKind == JsonValueKind.Object ? nested : root;
            var code = Text(error, "errorCode") ?? Text(error, "code") ?? Text(error, "ErrorCode");
            var message = Text(error, "message") ?? Text(error, "Message");
            var tracking = Text(root, "trackingId") ?? Text(error, "trackingId");
            if (message is not null && code is null && message.StartsWith("ErrorCode:", StringComparison.Ordinal))
            {
                var parts = message["ErrorCode:".Length..].Split(';', 2);
                code = parts[0];
                message = parts.Length > 1 ? parts[1] : message;
            }

            Dictionary<string, string>? info = null;
            if (error.TryGetProperty("info", out var infoElement) && infoElement.ValueKind == JsonValueKind.Object)
            {
                info = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var property in infoElement.EnumerateObject())
                {
                    info[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                }
            }

            return new(code, message, tracking, info);
        }
        catch (JsonException)
        {
            var text = body.Trim();
            return new(null, text.Length > 300 ? text[..300] + "..." : text, null, null);
        }
    }

    private static string? Text(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
    }
}
