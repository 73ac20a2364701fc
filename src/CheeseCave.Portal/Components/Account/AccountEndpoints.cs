using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace CheeseCave.Portal.Components.Account;

/// <summary>The non-page account actions, as small minimal-API endpoints (like the template's).</summary>
internal static class AccountEndpoints
{
    public const string LogoutPath = "/account/logout";

    public static void MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetRequiredService<Security.Entra.PortalSignIn>().IsEntra)
        {
            endpoints.MapEntraAccountEndpoints();
            return;
        }

        // A POST form with an antiforgery token, never a GET link, so another site cannot sign a user out.
        // Binding a [FromForm] parameter makes the minimal API validate the token (400 without it).
        endpoints.MapPost(LogoutPath, async (
            HttpContext context,
            SignInManager<PortalUser> signInManager,
            UserManager<PortalUser> userManager,
            AuditLog audit,
            [FromForm(Name = "ReturnUrl")] string? returnUrl) =>
        {
            var actor = Actor.From(context.User);

            // Cookies are stateless: a copy of this one would stay valid after sign-out. A new security stamp makes
            // every cookie issued so far fail its next check (within a minute), on every device of this user.
            if (await userManager.GetUserAsync(context.User) is { } user)
            {
                await userManager.UpdateSecurityStampAsync(user);
            }

            await signInManager.SignOutAsync();
            await audit.WriteAsync(actor, AuditActions.SignOut, actor.Name, AuditOutcomes.Succeeded, cancellationToken: context.RequestAborted);
            var back = IdentityRedirectManager.SafeLocalPath(returnUrl);
            return TypedResults.LocalRedirect(back == "/" ? "/account/login" : "/account/login?ReturnUrl=" + Uri.EscapeDataString(back));
        });
    }
}
