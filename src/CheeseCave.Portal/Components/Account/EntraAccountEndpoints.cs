using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Mvc;

namespace CheeseCave.Portal.Components.Account;

/// <summary>
/// Sign-in and sign-out with Entra ID, written here because Microsoft.Identity.Web.UI (its AccountController) is
/// not available: a GET that starts the OpenID Connect challenge, and the same sign-out POST path as local accounts.
/// </summary>
internal static class EntraAccountEndpoints
{
    public const string SignInPath = "/account/entra/sign-in";

    public static void MapEntraAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        // Only a local return address survives: an absolute or protocol-relative URL would be an open redirect.
        endpoints.MapGet(SignInPath, ([FromQuery(Name = "returnUrl")] string? returnUrl) =>
                TypedResults.Challenge(new AuthenticationProperties { RedirectUri = IdentityRedirectManager.SafeLocalPath(returnUrl) },
                    [OpenIdConnectDefaults.AuthenticationScheme]))
            .AllowAnonymous();

        // A POST form with an antiforgery token, never a GET link, so another site cannot sign a user out. Ends the
        // portal session and the Entra ID session; Entra ID then returns the browser to the sign-in page.
        endpoints.MapPost(AccountEndpoints.LogoutPath, async (HttpContext context, AuditLog audit, [FromForm(Name = "ReturnUrl")] string? returnUrl) =>
        {
            var actor = Actor.From(context.User);
            await audit.WriteAsync(actor, AuditActions.SignOut, actor.Name, AuditOutcomes.Succeeded, "Entra ID", context.RequestAborted);
            _ = returnUrl; // the sign-in page is the only sensible place after signing out of Entra ID
            return TypedResults.SignOut(new AuthenticationProperties { RedirectUri = "/account/login" },
                [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme]);
        });
    }
}
