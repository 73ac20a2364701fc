using System.Security.Claims;
using Azure.Core;
using CheeseCave.Provisioning.Errors;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Identity.Client;
using Microsoft.Identity.Web;

namespace CheeseCave.Portal.Security.Entra;

/// <summary>
/// A <see cref="TokenCredential"/> for one signed-in user and one API, over Microsoft.Identity.Web's
/// <see cref="ITokenAcquisition"/> (ArmClient and the DPS service client take only a TokenCredential). The user is
/// passed explicitly, never read from IHttpContextAccessor: inside a Blazor circuit there is no HttpContext.
/// Azure.Core asks for "&lt;resource&gt;/.default" (ARM even for "https://management.azure.com//.default"); that is
/// mapped to the resource's delegated user_impersonation scope, and a request for any other resource is refused.
/// Failures become a <see cref="ProvisioningException"/> with a plain sentence, which the wizard already shows.
/// </summary>
public sealed class EntraUserTokenCredential : TokenCredential
{
    private const string DefaultSuffix = "/.default";
    private const string ImpersonationSuffix = "/user_impersonation";

    private readonly ITokenAcquisition _tokens;
    private readonly ClaimsPrincipal _user;
    private readonly string _scope;
    private readonly string _resource;
    private readonly string _apiName;
    private readonly ProvisioningSurface _surface;

    /// <param name="scope">The delegated scope, e.g. <see cref="EntraSettings.ArmScope"/>.</param>
    /// <param name="apiName">The permission's name in the portal of Entra ID, for error messages.</param>
    public EntraUserTokenCredential(ITokenAcquisition tokens, ClaimsPrincipal user, string scope, string apiName, ProvisioningSurface surface)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        ArgumentException.ThrowIfNullOrWhiteSpace(apiName);
        if (!scope.EndsWith(ImpersonationSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{scope}' is not a user_impersonation scope.", nameof(scope));
        }

        _tokens = tokens;
        _user = user;
        _scope = scope;
        _resource = Resource(scope[..^ImpersonationSuffix.Length]);
        _apiName = apiName;
        _surface = surface;
    }

    /// <summary>For ARM on the user's behalf.</summary>
    public static EntraUserTokenCredential ForArm(ITokenAcquisition tokens, ClaimsPrincipal user) =>
        new(tokens, user, EntraSettings.ArmScope, "Azure Service Management", ProvisioningSurface.Arm);

    /// <summary>For the DPS service (data-plane) API on the user's behalf.</summary>
    public static EntraUserTokenCredential ForDpsDataPlane(ITokenAcquisition tokens, ClaimsPrincipal user) =>
        new(tokens, user, EntraSettings.DpsScope, "Azure IoT Hub Device Provisioning Service", ProvisioningSurface.Service);

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        // Azure.Core calls the synchronous form only from synchronous SDK methods, which the portal does not use.
        GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        foreach (var requested in requestContext.Scopes)
        {
            if (!Serves(requested))
            {
                throw new InvalidOperationException($"This credential serves only {_scope}; it was asked for a token for '{requested}'.");
            }
        }

        if (_user.Identity?.IsAuthenticated != true)
        {
            throw Failure(401, "SignInRequired", $"Could not call {_apiName} for you: you are not signed in. Sign in with Microsoft and try again.", null);
        }

        try
        {
            // The scheme is named: the default scheme is the cookie, whose options Microsoft.Identity.Web cannot use.
            var result = await _tokens.GetAuthenticationResultForUserAsync(
                [_scope], authenticationScheme: OpenIdConnectDefaults.AuthenticationScheme, tenantId: null, userFlow: null, user: _user,
                tokenAcquisitionOptions: new TokenAcquisitionOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
            return new AccessToken(result.AccessToken, result.ExpiresOn);
        }
        catch (MicrosoftIdentityWebChallengeUserException ex)
        {
            throw SignInAgain(ex.MsalUiRequiredException, ex);
        }
        catch (MsalUiRequiredException ex)
        {
            throw SignInAgain(ex, ex);
        }
        catch (MsalServiceException ex) when (ex.Message.Contains("AADSTS650057", StringComparison.Ordinal) || ex.ErrorCode == "invalid_resource")
        {
            throw Failure(403, "AADSTS650057",
                $"The portal's app registration does not have the {_apiName} permission (user_impersonation). An Entra ID administrator must add it under API permissions and grant admin consent (see ENTRA-ID.md); then sign out and sign in again.", ex);
        }
        catch (MsalServiceException ex)
        {
            var transient = ex.StatusCode is 429 or >= 500;
            throw Failure(ex.StatusCode, ex.ErrorCode,
                $"Entra ID did not issue a token for {_apiName}: {FirstLine(ex.Message)}{(transient ? " Try again in a moment." : "")}", ex, transient);
        }
        catch (MsalClientException ex)
        {
            throw Failure(0, ex.ErrorCode, $"Could not get a token for {_apiName} from Entra ID: {FirstLine(ex.Message)}", ex, isTransient: ex.ErrorCode is "request_timeout" or "service_not_available");
        }
    }

    private ProvisioningException SignInAgain(MsalUiRequiredException? ui, Exception inner)
    {
        // AADSTS65001: nobody consented to the permission yet; signing in again lets the user (or an admin) consent.
        var consent = ui?.Message.Contains("AADSTS65001", StringComparison.Ordinal) == true;
        var message = consent
            ? $"Entra ID needs consent before the portal may call {_apiName} for you. Sign out and sign in again; if it asks for an administrator, ask one to grant admin consent for the portal's app registration."
            : $"Your Microsoft sign-in has to be renewed before the portal can call {_apiName} for you (your session expired, the portal restarted without your token, or Entra ID asks for multi-factor sign-in). Sign out and sign in again.";
        return Failure(401, consent ? "AADSTS65001" : "SignInRequired", message, inner);
    }

    private ProvisioningException Failure(int status, string? code, string message, Exception? inner, bool isTransient = false) =>
        new(new ProvisioningErrorDetails(_surface, status, message, code, IsTransient: isTransient), inner);

    private bool Serves(string requested)
    {
        if (string.Equals(requested, _scope, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return requested.EndsWith(DefaultSuffix, StringComparison.Ordinal)
            && string.Equals(Resource(requested[..^DefaultSuffix.Length]), _resource, StringComparison.OrdinalIgnoreCase);
    }

    private static string Resource(string value) => value.TrimEnd('/');

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}
