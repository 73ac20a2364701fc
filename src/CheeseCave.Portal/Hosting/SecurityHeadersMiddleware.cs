namespace CheeseCave.Portal.Hosting;

/// <summary>Adds security headers to every response, including error and static-file responses.</summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next, IConfiguration configuration)
{
    // With Entra ID the sign-out form's POST is answered with a redirect to Entra ID, and browsers apply the page's
    // form-action to that redirect: allow the configured sign-in instance too.
    private readonly string _policy = Security.Entra.EntraSettings.IsConfigured(configuration)
        && Uri.TryCreate(configuration["AzureAd:Instance"], UriKind.Absolute, out var instance)
            ? ContentSecurityPolicy.Replace("form-action 'self'", $"form-action 'self' {instance.GetLeftPart(UriPartial.Authority)}", StringComparison.Ordinal)
            : ContentSecurityPolicy;

    /// <summary>
    /// Works with Blazor Server and MudBlazor: scripts only from this origin (so no inline import map), and
    /// connections only to this origin ('self' covers the circuit's ws:/wss: to the same host in CSP Level 3
    /// browsers). Inline styles stay allowed: MudBlazor writes its theme as a style element and positions popovers,
    /// dialogs and progress bars with style attributes (docs/security.md).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; " +
        "script-src 'self'; " +
        "style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data:; " +
        "font-src 'self' data:; " +
        "connect-src 'self'; " +
        "object-src 'none'; " +
        "base-uri 'self'; " +
        "form-action 'self'; " +
        "frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        // Set the headers just before the response starts: UseExceptionHandler clears headers it finds earlier.
        context.Response.OnStarting(state =>
        {
            var headers = ((HttpContext)state).Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            // A page with an inline script of its own (the API reference) puts a per-request nonce in the items.
            headers.ContentSecurityPolicy = ((HttpContext)state).Items[Automation.Api.ApiDocumentation.ScriptNonceItem] is string nonce
                ? _policy.Replace("script-src 'self'", $"script-src 'self' 'nonce-{nonce}'", StringComparison.Ordinal)
                : _policy;
            return Task.CompletedTask;
        }, context);

        return next(context);
    }
}
