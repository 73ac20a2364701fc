using System.Security.Claims;
using CheeseCave.Portal.Accounts;
using CheeseCave.Portal.Auditing;
using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Hosting;
using CheeseCave.Portal.Persistence;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Identity.Client;
using Microsoft.Identity.Web;
using Microsoft.Identity.Web.TokenCacheProviders.Distributed;

namespace CheeseCave.Portal.Security.Entra;

/// <summary>
/// Entra ID sign-in through Microsoft.Identity.Web: OpenID Connect challenge, a session cookie, app roles as portal
/// roles, token acquisition for ARM and the DPS data plane on the user's behalf (Target Azure) with a persistent,
/// encrypted token cache. Microsoft.Identity.Web.UI is not used: the endpoints are in EntraAccountEndpoints.
/// </summary>
public static class EntraAuthentication
{
    /// <summary>A short-lived HttpOnly cookie carrying why a Microsoft sign-in failed to the sign-in page.</summary>
    public const string ErrorCookieName = "CheeseCave.SignInError";

    public static void AddEntraIdAuthentication(this IServiceCollection services, IConfiguration configuration, CheeseCaveOptions settings, PortalPaths paths)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(paths);
        if (EntraSettings.Validate(configuration, settings) is { } problem)
        {
            throw new PortalConfigurationException(problem);
        }

        var section = configuration.GetSection(EntraSettings.SectionName);
        var callsAzure = settings.Target == ProvisioningTarget.Azure;

        // Unauthenticated page requests go to the portal's sign-in page (with its "Sign in with Microsoft" button),
        // not straight to Entra ID; only /account/entra/sign-in challenges OpenID Connect.
        services.AddAuthentication(options =>
            {
                options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                options.DefaultChallengeScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            })
            .AddMicrosoftIdentityWebApp(section, OpenIdConnectDefaults.AuthenticationScheme, CookieAuthenticationDefaults.AuthenticationScheme)
            .EnableTokenAcquisitionToCallDownstreamApi(callsAzure ? [EntraSettings.ArmScope] : [])
            .AddDistributedTokenCaches();

        // One token acquisition for the app (it is keyed by the user passed in, not by a request): the provisioning
        // factory is a singleton that serves circuits, where no request scope exists.
        services.AddTokenAcquisition(isTokenAcquisitionSingleton: true);

        // The persistent L2 cache, encrypted with the portal's Data Protection key ring before it is written.
        services.RemoveAll<IDistributedCache>();
        services.AddSingleton<IDistributedCache>(sp => new SqliteTokenCache(paths.DataDirectory, sp.GetRequiredService<TimeProvider>()));
        services.Configure<MsalDistributedTokenCacheAdapterOptions>(options => options.Encrypt = true);

        services.AddSingleton(PortalSignIn.EntraId);
        services.AddSingleton<ICallerAuthorization, EntraCallerAuthorization>();
        services.AddSingleton<EntraSessionCheck>();
        services.AddScoped<AuthenticationStateProvider, EntraRevalidatingAuthenticationStateProvider>();

        var callbackPath = section["CallbackPath"]!;
        var signedOutPath = section["SignedOutCallbackPath"] is { Length: > 0 } configured ? configured : "/signout-callback-oidc";
        services.PostConfigure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme, options =>
        {
            var redirect = options.Events.OnRedirectToIdentityProvider;
            options.Events.OnRedirectToIdentityProvider = async context =>
            {
                await redirect(context).ConfigureAwait(false);

                // Built from CheeseCave:PublicUrl, not the request: behind a proxy the request says http://internal:5080.
                context.ProtocolMessage.RedirectUri = EntraSettings.RedirectUri(settings, callbackPath).AbsoluteUri;
            };

            var signOut = options.Events.OnRedirectToIdentityProviderForSignOut;
            options.Events.OnRedirectToIdentityProviderForSignOut = async context =>
            {
                await signOut(context).ConfigureAwait(false);
                context.ProtocolMessage.PostLogoutRedirectUri = EntraSettings.RedirectUri(settings, signedOutPath).AbsoluteUri;
            };

            var validated = options.Events.OnTokenValidated;
            options.Events.OnTokenValidated = async context =>
            {
                await validated(context).ConfigureAwait(false);
                if (context.Principal?.Identity is ClaimsIdentity identity)
                {
                    EntraRoles.Normalize(identity);
                    var audit = context.HttpContext.RequestServices.GetRequiredService<AuditLog>();
                    var actor = Actor.From(context.Principal);
                    await audit.WriteAsync(actor, AuditActions.SignIn, actor.Name, AuditOutcomes.Succeeded,
                        "Entra ID; roles: " + (EntraRoles.RolesOf(context.Principal) is { Count: > 0 } roles ? string.Join(", ", roles) : "none"),
                        context.HttpContext.RequestAborted).ConfigureAwait(false);
                }
            };

            options.Events.OnRemoteFailure = context =>
            {
                // The user cancelled, is not assigned to the app (AADSTS50105), or consent is missing: back to the
                // sign-in page with Entra ID's first line, instead of an exception page.
                var reason = context.Failure?.Message ?? "unknown error";
                var firstLine = reason.Split('\n', 2)[0].Trim();
                context.Response.Cookies.Append(ErrorCookieName, "Sign-in with Microsoft failed: " + (firstLine.Length > 300 ? firstLine[..300] : firstLine),
                    new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, MaxAge = TimeSpan.FromSeconds(30), IsEssential = true, Secure = context.Request.IsHttps });
                context.Response.Redirect("/account/login");
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });

        services.PostConfigure<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme, options =>
        {
            options.LoginPath = "/account/login";
            options.LogoutPath = "/account/logout";
            options.AccessDeniedPath = "/account/access-denied";
            options.Cookie.Name = "CheeseCave.Session";
            options.Cookie.HttpOnly = true;

            // Lax, not Strict: Entra ID posts the sign-in response from its own site, and the redirect that follows
            // must carry the new session cookie.
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            // Absolute, not sliding: app roles are read at sign-in, so a role removed in Entra ID ends within a working day.
            options.SlidingExpiration = false;

            var validate = options.Events.OnValidatePrincipal;
            options.Events.OnValidatePrincipal = async context =>
            {
                await validate(context).ConfigureAwait(false);
                if (context.Principal is { } principal
                    && !await context.HttpContext.RequestServices.GetRequiredService<EntraSessionCheck>().HasTokenCacheAccountAsync(principal, context.HttpContext.RequestAborted).ConfigureAwait(false))
                {
                    // A cookie without a cached account (token cache lost or expired) would let the user in and fail
                    // at the first Azure call: end the session so they sign in again cleanly.
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
                }
            };
        });
    }
}

/// <summary>
/// "Does the token cache still hold this user's account?" With Target Azure every Azure call needs it, so a session
/// without it is rejected. With Target Emulator no token is ever acquired, so every session passes.
/// </summary>
public sealed class EntraSessionCheck(IServiceScopeFactory scopes, Microsoft.Extensions.Options.IOptions<CheeseCaveOptions> options)
{
    public async Task<bool> HasTokenCacheAccountAsync(ClaimsPrincipal principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (options.Value.Target != ProvisioningTarget.Azure || principal.Identity?.IsAuthenticated != true)
        {
            return true;
        }

        await using var scope = scopes.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<ITokenAcquisition>();
        try
        {
            _ = await tokens.GetAccessTokenForUserAsync([EntraSettings.ArmScope], authenticationScheme: OpenIdConnectDefaults.AuthenticationScheme, tenantId: null, userFlow: null, user: principal,
                tokenAcquisitionOptions: new TokenAcquisitionOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (IsNoAccount(ex))
        {
            return false;
        }
        catch (Exception ex) when (ex is MsalException or MicrosoftIdentityWebChallengeUserException)
        {
            // Consent, multi-factor, a revoked grant or a network problem: the session stays (the wrapper exception is
            // not an MsalException, so it is named here, or it would fail every request); the Azure call that needs
            // the token reports it in words and says to sign in again.
            return true;
        }
    }

    private static bool IsNoAccount(Exception exception) => exception switch
    {
        MicrosoftIdentityWebChallengeUserException challenge => IsNoAccount(challenge.MsalUiRequiredException),
        MsalUiRequiredException ui => ui.ErrorCode is MsalError.UserNullError or MsalError.NoTokensFoundError or MsalError.NoAccountForLoginHint,
        _ => false,
    };
}
