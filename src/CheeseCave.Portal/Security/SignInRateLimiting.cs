using System.Globalization;
using System.Threading.RateLimiting;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Hosting;
using Microsoft.AspNetCore.RateLimiting;

namespace CheeseCave.Portal.Security;

/// <summary>
/// Rate limits for the anonymous form posts: sign-in (per user name and client address, and per address) and the
/// setup and invitation forms (per address). Identity's lockout (5 failures → 15 minutes) works alongside: the
/// limiter slows guessing across accounts, the lockout protects one account.
/// </summary>
public static class SignInRateLimiting
{
    public const string LoginPath = "/account/login";

    public const string RejectionMessage = "Too many attempts. Wait a minute, then try again.";

    private const string UserNameItem = "CheeseCave.SignIn.UserName";

    /// <summary>The form field that carries the user name on the sign-in page.</summary>
    public const string UserNameField = "Input.UserName";

    public static void Configure(RateLimiterOptions options, SignInRateLimitOptions limits)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(limits);

        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = static async (context, cancellationToken) =>
        {
            var response = context.HttpContext.Response;
            response.ContentType = "text/plain; charset=utf-8";
            if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
            {
                response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            await response.WriteAsync(RejectionMessage, cancellationToken).ConfigureAwait(false);
        };

        var perUser = PartitionedRateLimiter.Create<HttpContext, string>(context => Kind(context) switch
        {
            PostKind.Login => PerMinute($"login|{Address(context)}|{context.Items[UserNameItem] as string}", limits.PerUserAndAddress),
            PostKind.Onboarding => PerMinute($"onboarding|{Address(context)}", limits.OnboardingPerAddress),
            _ => RateLimitPartition.GetNoLimiter(""),
        });
        var perAddress = PartitionedRateLimiter.Create<HttpContext, string>(context => Kind(context) switch
        {
            PostKind.Login => PerMinute($"address|{Address(context)}", limits.PerAddress),
            _ => RateLimitPartition.GetNoLimiter(""),
        });
        options.GlobalLimiter = PartitionedRateLimiter.CreateChained(perUser, perAddress);
    }

    /// <summary>
    /// Reads the sign-in form before the limiter runs, so the limiter can partition on the user name. The form is
    /// buffered by ASP.NET Core, so the page reads the same values afterwards.
    /// </summary>
    public static async Task CaptureUserNameAsync(HttpContext context, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);

        if (Kind(context) == PostKind.Login && context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            var userName = form[UserNameField].ToString().Trim().ToUpperInvariant();
            context.Items[UserNameItem] = userName.Length > 64 ? userName[..64] : userName;
        }

        await next().ConfigureAwait(false);
    }

    private enum PostKind
    {
        None,
        Login,
        Onboarding,
    }

    private static PostKind Kind(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            return PostKind.None;
        }

        // The page routing chose, not the path as sent: "/account/login/", "/ACCOUNT/LOGIN" and "/account/login/."
        // all reach the sign-in page and must all count against its limit.
        if ((context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText is not { } template)
        {
            return PostKind.None;
        }

        var route = new PathString("/" + template.Trim('/'));
        if (route.Equals(LoginPath, StringComparison.OrdinalIgnoreCase))
        {
            return PostKind.Login;
        }

        return route.StartsWithSegments("/setup", StringComparison.OrdinalIgnoreCase) || route.StartsWithSegments("/invite", StringComparison.OrdinalIgnoreCase)
            ? PostKind.Onboarding
            : PostKind.None;
    }

    private static string Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static RateLimitPartition<string> PerMinute(string key, int permits) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, permits),
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
}
