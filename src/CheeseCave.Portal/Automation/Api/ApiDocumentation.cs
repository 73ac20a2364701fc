using System.Security.Cryptography;
using Microsoft.AspNetCore.OpenApi;
using Scalar.AspNetCore;

namespace CheeseCave.Portal.Automation.Api;

/// <summary>
/// The OpenAPI document of <c>/api/v1</c> at <c>/openapi/v1.json</c> and the Scalar reference at <c>/scalar</c>, both for
/// signed-in users (the portal's fallback policy: anonymous visitors are sent to the sign-in page).
/// </summary>
public static class ApiDocumentation
{
    public const string DocumentName = "v1";

    /// <summary>The per-request script nonce the security headers add to the CSP (Scalar's page has an inline script).</summary>
    public const string ScriptNonceItem = "CheeseCave.Csp.ScriptNonce";

    public static IServiceCollection AddApiDocumentation(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/v1", StringComparison.Ordinal) == true;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "CheeseCave Portal automation API";
                document.Info.Description = "For factory lines and scripts. Authenticate with a personal API token from your account page: "
                    + "`Authorization: Bearer ccp_…`. Scopes: read (lists and status), issue (device batches, grants, CSR signing), operate (renewal and revocation). "
                    + "Errors are RFC 7807 problem details: `title` says what went wrong, `detail` what to do.";
                return Task.CompletedTask;
            });
        });

    public static IEndpointRouteBuilder MapApiDocumentation(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/scalar", (options, context) =>
        {
            var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)); // hex: nothing in it needs HTML escaping
            context.Items[ScriptNonceItem] = nonce;
            options.WithTitle("CheeseCave Portal API")
                .WithOpenApiRoutePattern("/openapi/{documentName}.json")
                .WithNonce(nonce)
                .DisableDefaultFonts();
        });
        return app;
    }
}
