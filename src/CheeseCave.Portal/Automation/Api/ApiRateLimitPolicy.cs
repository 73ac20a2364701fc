using System.Globalization;
using System.Threading.RateLimiting;
using CheeseCave.Portal.Security;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Automation.Api;

/// <summary>
/// A token bucket per API token (<see cref="AutomationOptions.RequestsPerSecond"/>, <see cref="AutomationOptions.Burst"/>):
/// one runaway script cannot starve the factory lines. Over the limit: 429 with Retry-After and a problem body.
/// </summary>
public sealed class ApiRateLimitPolicy(IOptionsMonitor<AutomationOptions> options) : IRateLimiterPolicy<string>
{
    public const string Name = "api-token";

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = static async (context, cancellationToken) =>
    {
        var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
        context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await ApiProblemWriter.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests,
            "This token sent more requests than its rate limit allows.", $"Wait {seconds} second(s) (Retry-After) and send fewer requests at once; each token has its own limit.").ConfigureAwait(false);
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var token = httpContext.User.FindFirst(ApiTokenPrincipal.TokenIdClaim)?.Value;
        if (token is null)
        {
            // Only authorized token callers get this far; anything else is refused before the limiter.
            return RateLimitPartition.GetNoLimiter("none");
        }

        var settings = options.CurrentValue;
        return RateLimitPartition.GetTokenBucketLimiter(token, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, settings.Burst),
            TokensPerPeriod = Math.Max(1, settings.RequestsPerSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }
}
