using Microsoft.AspNetCore.Components;

namespace CheeseCave.Portal.Components.Account;

/// <summary>
/// Redirects from the server-rendered account pages, optionally with a status message in a short-lived
/// HttpOnly cookie (never in the URL). The project sets BlazorDisableThrowNavigationException, so NavigateTo
/// does not throw during server rendering: callers <c>return</c> right after calling these.
/// </summary>
internal sealed class IdentityRedirectManager(NavigationManager navigationManager, IHttpContextAccessor httpContextAccessor)
{
    public const string StatusCookieName = "CheeseCave.StatusMessage";

    private static readonly CookieBuilder StatusCookieBuilder = new()
    {
        SameSite = SameSiteMode.Strict,
        HttpOnly = true,
        IsEssential = true,
        MaxAge = TimeSpan.FromSeconds(5),
    };

    /// <summary>Redirects to a local address; anything else (an absolute or protocol-relative URL) goes home.</summary>
    public void RedirectTo(string? uri)
    {
        navigationManager.NavigateTo(SafeLocalPath(uri));
    }

    public void RedirectToWithStatus(string uri, string message)
    {
        var httpContext = httpContextAccessor.HttpContext
            ?? throw new InvalidOperationException($"{nameof(RedirectToWithStatus)} needs the request's HttpContext.");
        httpContext.Response.Cookies.Append(StatusCookieName, message, StatusCookieBuilder.Build(httpContext));
        RedirectTo(uri);
    }

    /// <summary>Only paths on this site: blocks open redirects through <c>ReturnUrl</c>.</summary>
    internal static string SafeLocalPath(string? uri)
    {
        if (string.IsNullOrEmpty(uri))
        {
            return "/";
        }

        // "~/x" is app-relative: judge the path it turns into, so "~//evil.example" cannot become "//evil.example".
        var path = uri[0] == '~' ? uri[1..] : uri;
        var isLocal = path.Length > 0 && path[0] == '/' && (path.Length == 1 || (path[1] != '/' && path[1] != '\\'));
        // Printable ASCII only: a Location header cannot carry anything else (Kestrel refuses it with a 500), and
        // look-alike characters such as "。" are how a path is made to read as another host.
        return isLocal && path.All(c => c is > ' ' and < '\x7f') ? path : "/";
    }
}
