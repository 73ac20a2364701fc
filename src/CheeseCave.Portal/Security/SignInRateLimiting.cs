using System.Globalization;
using CheeseCave.Portal.Cluster;
using CheeseCave.Portal.Configuration;
using Microsoft.Extensions.Options;

namespace CheeseCave.Portal.Security;

/// <summary>
/// Rate limits for the anonymous form posts, shared by every portal instance: sign-in (per user name and client address, and per address) and the
/// setup and invitation forms (per address). Identity's lockout (5 failures → 15 minutes) works alongside: the
/// limiter slows guessing across accounts, the lockout protects one account.
/// </summary>
public static class SignInRateLimiting
{
    public const string LoginPath = "/account/login";

    public const string RejectionMessage = "Too many attempts. Wait a minute, then try again.";

    private const string UserNameItem = "CheeseCave.SignIn.UserName";

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>The form field that carries the user name on the sign-in page.</summary>
    public const string UserNameField = "Input.UserName";

    /// <summary>
    /// Counts the post against the shared limits before the page handles it, and answers 429 with Retry-After once one
    /// is spent. The counters live in the database (<see cref="SharedRateCounters"/>), so several portal instances
    /// behind a load balancer enforce one limit together.
    /// </summary>
    public static async Task LimitAsync(HttpContext context, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);

        var kind = Kind(context);
        if (kind != PostKind.None)
        {
            var limits = context.RequestServices.GetRequiredService<IOptions<CheeseCaveOptions>>().Value.SignInRateLimit;
            var counters = context.RequestServices.GetRequiredService<SharedRateCounters>();
            IEnumerable<(string Partition, int Permits)> partitions = kind == PostKind.Login
                ? [($"login|{Address(context)}|{context.Items[UserNameItem] as string}", limits.PerUserAndAddress), ($"address|{Address(context)}", limits.PerAddress)]
                : [($"onboarding|{Address(context)}", limits.OnboardingPerAddress)];
            foreach (var (partition, permits) in partitions)
            {
                var (count, windowEndsAt) = await counters.HitAsync(partition, Window, context.RequestAborted).ConfigureAwait(false);
                if (count > Math.Max(1, permits))
                {
                    var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
                    var response = context.Response;
                    response.StatusCode = StatusCodes.Status429TooManyRequests;
                    response.ContentType = "text/plain; charset=utf-8";
                    response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((windowEndsAt - now).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                    await response.WriteAsync(RejectionMessage, context.RequestAborted).ConfigureAwait(false);
                    return;
                }
            }
        }

        await next().ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the sign-in form before the limit is counted, so the limit can partition on the user name. The form is
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
}
