using CheeseCave.Portal.Configuration;
using CheeseCave.Portal.Hosting;

namespace CheeseCave.Portal.Security.Entra;

/// <summary>
/// Entra ID (Microsoft.Identity.Web) configuration: the <c>AzureAd</c> section switches sign-in from local accounts
/// to Entra ID. Checked once at start-up so a half-configured portal refuses to start with one sentence naming the
/// setting to fix, instead of failing later at the first sign-in with an AADSTS code.
/// </summary>
public static class EntraSettings
{
    public const string SectionName = "AzureAd";

    /// <summary>The delegated permission "Azure Service Management / user_impersonation": ARM on the user's behalf.</summary>
    public const string ArmScope = "https://management.azure.com/user_impersonation";

    /// <summary>The delegated permission "Azure IoT Hub Device Provisioning Service / user_impersonation": the DPS data plane.</summary>
    public const string DpsScope = "https://azure-devices-provisioning.net/user_impersonation";

    /// <summary>Multi-tenant and personal-account authorities: app roles and on-behalf ARM calls need one organisation's tenant.</summary>
    private static readonly string[] SharedTenants = ["common", "organizations", "consumers"];

    /// <summary>True when an <c>AzureAd</c> section with at least one value is configured.</summary>
    public static bool IsConfigured(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.GetSection(SectionName).Exists();
    }

    /// <summary>Null when the configuration is usable; otherwise one plain sentence naming the setting to fix.</summary>
    public static string? Validate(IConfiguration configuration, CheeseCaveOptions portal)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(portal);
        var section = configuration.GetSection(SectionName);

        var instance = section["Instance"];
        if (string.IsNullOrWhiteSpace(instance))
        {
            return "Entra ID sign-in is configured but AzureAd:Instance is missing: set it to https://login.microsoftonline.com/ (or your national cloud's sign-in address).";
        }

        if (!Uri.TryCreate(instance, UriKind.Absolute, out var instanceUri) || instanceUri.Scheme != Uri.UriSchemeHttps)
        {
            return $"AzureAd:Instance '{instance}' is not an https address: set it to https://login.microsoftonline.com/.";
        }

        var tenant = section["TenantId"];
        if (string.IsNullOrWhiteSpace(tenant))
        {
            return "Entra ID sign-in is configured but AzureAd:TenantId is missing: set it to your directory (tenant) ID from the app registration's Overview page.";
        }

        if (SharedTenants.Contains(tenant.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            return $"AzureAd:TenantId '{tenant}' admits accounts from any directory: set it to your own directory (tenant) ID, because app roles and Azure calls on the user's behalf need one organisation.";
        }

        var clientId = section["ClientId"];
        if (string.IsNullOrWhiteSpace(clientId))
        {
            return "Entra ID sign-in is configured but AzureAd:ClientId is missing: set it to the application (client) ID from the app registration's Overview page.";
        }

        if (!Guid.TryParse(clientId, out _))
        {
            return $"AzureAd:ClientId '{clientId}' is not a GUID: copy the application (client) ID from the app registration's Overview page.";
        }

        var hasSecret = !string.IsNullOrWhiteSpace(section["ClientSecret"]);
        var hasCredentials = section.GetSection("ClientCertificates").GetChildren().Any() || section.GetSection("ClientCredentials").GetChildren().Any();
        if (!hasSecret && !hasCredentials)
        {
            return "Entra ID sign-in is configured but neither AzureAd:ClientSecret nor AzureAd:ClientCertificates is set: the portal needs one of them to call Azure on the user's behalf (see ENTRA-ID.md, step 5).";
        }

        var callback = section["CallbackPath"];
        if (string.IsNullOrWhiteSpace(callback))
        {
            return "Entra ID sign-in is configured but AzureAd:CallbackPath is missing: set it to /signin-oidc and register <portal address>/signin-oidc as the app's redirect URI.";
        }

        if (!callback.StartsWith('/') || callback.StartsWith("//", StringComparison.Ordinal))
        {
            return $"AzureAd:CallbackPath '{callback}' must be a path on this site that starts with one '/', such as /signin-oidc.";
        }

        if (section["SignedOutCallbackPath"] is { Length: > 0 } signedOut && (!signedOut.StartsWith('/') || signedOut.StartsWith("//", StringComparison.Ordinal)))
        {
            return $"AzureAd:SignedOutCallbackPath '{signedOut}' must be a path on this site that starts with one '/', such as /signout-callback-oidc.";
        }

        // Entra ID accepts http redirect URIs only for localhost; the redirect URI is built from the public address.
        if (string.IsNullOrWhiteSpace(portal.PublicUrl))
        {
            return "Entra ID sign-in needs CheeseCave:PublicUrl, the https address people use to reach the portal (the redirect URI registered in Entra ID is built from it).";
        }

        if (!Uri.TryCreate(portal.PublicUrl, UriKind.Absolute, out var publicUrl)
            || !(publicUrl.Scheme == Uri.UriSchemeHttps || (publicUrl.Scheme == Uri.UriSchemeHttp && publicUrl.IsLoopback)))
        {
            return $"CheeseCave:PublicUrl '{portal.PublicUrl}' must be an https address for Entra ID sign-in (Entra ID accepts http redirect URIs only for localhost).";
        }

        return null;
    }

    /// <summary>The redirect URI to register in Entra ID and to send in the sign-in request.</summary>
    public static Uri RedirectUri(CheeseCaveOptions portal, string callbackPath)
    {
        ArgumentNullException.ThrowIfNull(portal);
        var baseUri = portal.PublicUrl!.EndsWith('/') ? portal.PublicUrl : portal.PublicUrl + "/";
        return new Uri(new Uri(baseUri), callbackPath.TrimStart('/'));
    }
}

/// <summary>Which sign-in the portal uses, for pages that differ (login, setup link, invitations, users).</summary>
public sealed record PortalSignIn(bool IsEntra)
{
    public static PortalSignIn LocalAccounts { get; } = new(false);

    public static PortalSignIn EntraId { get; } = new(true);
}
