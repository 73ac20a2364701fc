using System.Runtime.ExceptionServices;
using CheeseCave.Provisioning.Configuration;
using CheeseCave.Provisioning.Diagnostics;

namespace CheeseCave.Provisioning.Errors;

/// <summary>
/// The retry loop of the DPS service and device clients (ARM uses Azure.Core's retry policy with the same options):
/// an attempt that fails transiently is repeated after an exponential, jittered backoff that honours Retry-After,
/// until <see cref="ProvisioningRetryOptions.MaxRetries"/> is used up. The caller's cancellation is never retried.
/// </summary>
internal static class RetryLoop
{
    public static async Task<T> RunAsync<T>(
        ProvisioningRetryOptions options,
        TimeProvider time,
        ProvisioningSurface surface,
        string action,
        Func<int, CancellationToken, Task<T>> attempt,
        CancellationToken cancellationToken)
    {
        // One span per call, whatever the number of attempts: the span is what the caller waited for.
        using var activity = ProvisioningTelemetry.Start(surface, action);
        try
        {
            return await RunAttemptsAsync(options, time, surface, action, attempt, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ProvisioningTelemetry.Failed(activity, ex))
        {
            throw; // never reached: the filter only tags the span
        }
    }

    private static async Task<T> RunAttemptsAsync<T>(
        ProvisioningRetryOptions options,
        TimeProvider time,
        ProvisioningSurface surface,
        string action,
        Func<int, CancellationToken, Task<T>> attempt,
        CancellationToken cancellationToken)
    {
        for (var number = 0; ; number++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ProvisioningTelemetry.Attempt(number + 1);
            ProvisioningException failure;
            try
            {
                return await attempt(number, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ProvisioningErrorClassifier.FromException(surface, ex, null, action) is { } mapped)
            {
                failure = mapped;
            }

            if (!failure.IsTransient || number >= options.MaxRetries)
            {
                if (number == 0)
                {
                    ExceptionDispatchInfo.Capture(failure).Throw();
                }

                throw WithAttempts(failure, number + 1);
            }

            await Task.Delay(DelayFor(options, number, failure.RetryAfter), time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Exponential backoff with ±20% jitter, capped, but never shorter than the service's Retry-After.</summary>
    internal static TimeSpan DelayFor(ProvisioningRetryOptions options, int retryNumber, TimeSpan? retryAfter)
    {
        var exponential = options.Delay.TotalMilliseconds * Math.Pow(2, Math.Min(retryNumber, 30));
#pragma warning disable CA5394 // jitter, not security
        var jittered = exponential * (0.8 + (Random.Shared.NextDouble() * 0.4));
#pragma warning restore CA5394
        var backoff = TimeSpan.FromMilliseconds(Math.Min(jittered, options.MaxDelay.TotalMilliseconds));
        if (retryAfter is { } server)
        {
            var honoured = server > options.MaxRetryAfter ? options.MaxRetryAfter : server;
            if (honoured > backoff) return honoured;
        }

        return backoff;
    }

    private static ProvisioningException WithAttempts(ProvisioningException failure, int attempts)
    {
        var details = new ProvisioningErrorDetails(failure.Surface, failure.Status,
            $"{failure.Message} (gave up after {attempts} attempts)", failure.ServiceErrorCode, failure.CorrelationId,
            failure.IsTransient, failure.RetryAfter, failure.Info);
        return failure is ResourceChangedException ? new ResourceChangedException(details, failure) : new ProvisioningException(details, failure);
    }
}
