using System.Net;

namespace CheeseCave.Portal.Tests.Security.AuthorizationMatrix;

/// <summary>The authorization matrix's endpoint table, checked by <see cref="AuthorizationMatrixTests"/>.</summary>
internal static class EndpointRows
{
    /// <summary>
    /// Other endpoints ("METHOD pattern" as routing shows it), each with sample requests and the least access each
    /// sample needs (one route can serve a certificate to Viewers and a key to Operators). Placeholders in samples:
    /// {setup}, {certificate}, {device}, {registration}, {batch}.
    /// </summary>
    public static Dictionary<string, Sample[]> All { get; } = new(StringComparer.Ordinal)
    {
        ["* /healthz"] = [new("GET", "/healthz", Access.Public)],
        ["* /health/live"] = [new("GET", "/health/live", Access.Public)],
        ["* /health/ready"] = [new("GET", "/health/ready", Access.Public)],
        ["GET /emulator/trust-bundle.pem"] = [new("GET", "/emulator/trust-bundle.pem", Access.Public)],
        // Without an antiforgery token a signed-in caller reaches the endpoint and gets 400; nobody is signed out.
        ["POST /account/logout"] = [new("POST", "/account/logout", Access.SignedIn, AllowedStatus: HttpStatusCode.BadRequest)],
        ["GET /audit/export.csv"] = [new("GET", "/audit/export.csv", Access.Approver)],
        ["GET /certificates/export.csv"] = [new("GET", "/certificates/export.csv?status=active", Access.Viewer)],
        ["GET /setups/{setupId:int}/certificates/{certificateId:int}.pem"] = [new("GET", "/setups/{setup}/certificates/{certificate}.pem", Access.Viewer)],
        ["GET /setups/{setupId:int}/certificates/{certificateId:int}.cer"] = [new("GET", "/setups/{setup}/certificates/{certificate}.cer", Access.Viewer)],
        ["GET /setups/{setupId:int}/devices/{deviceId:int}/{fileName}"] =
        [
            new("GET", "/setups/{setup}/devices/{device}/{registration}.cert.pem", Access.Viewer),
            new("GET", "/setups/{setup}/devices/{device}/{registration}-chain.pem", Access.Viewer),
            new("GET", "/setups/{setup}/devices/{device}/{registration}.cer", Access.Viewer),
            // Device keys: Operator role, and only the user who issued the batch (the world's Operator caller).
            new("GET", "/setups/{setup}/devices/{device}/{registration}.key.pem", Access.Operator, Owner: Caller.Operator),
            new("GET", "/setups/{setup}/devices/{device}/{registration}.pfx", Access.Operator, Owner: Caller.Operator),
        ],
        ["GET /setups/{setupId:int}/certificates/{certificateId:int}/verification.pem"] = [new("GET", "/setups/{setup}/certificates/{certificate}/verification.pem", Access.Viewer)],
        ["GET /setups/{setupId:int}/certificates/{certificateId:int}/verification.cer"] = [new("GET", "/setups/{setup}/certificates/{certificate}/verification.cer", Access.Viewer)],
        // A form post: without an antiforgery token a Viewer gets past the policy and is stopped with 400 (the service
        // then re-checks Operator, which the method rows cover).
        ["POST /setups/{setupId:int}/ca/import"] = [new("POST", "/setups/{setup}/ca/import", Access.Viewer, AllowedStatus: HttpStatusCode.BadRequest)],
        ["POST /setups/{setupId:int}/rollover/import"] = [new("POST", "/setups/{setup}/rollover/import", Access.Viewer, AllowedStatus: HttpStatusCode.BadRequest)],
        // The world's setup has no open rollover, so no verification code: allowed callers get 404.
        ["GET /setups/{setupId:int}/rollover/verification-code.txt"] = [new("GET", "/setups/{setup}/rollover/verification-code.txt", Access.Viewer, AllowedStatus: HttpStatusCode.NotFound)],
        // A key export waits for one download by the user it was made for; anyone else allowed in gets 410.
        ["GET /setups/{setupId:int}/key-exports/{downloadId:regex(^[0-9a-f]{{32}}$)}/{fileName}"] =
            [new("GET", "/setups/{setup}/key-exports/00000000000000000000000000000000/root.key.pem", Access.Operator, AllowedStatus: HttpStatusCode.Gone)],
        ["GET /setups/{setupId:int}/batches/{batchId:regex(^[0-9a-z-]{{1,64}}$)}.zip"] = [new("GET", "/setups/{setup}/batches/{batch}.zip", Access.Viewer)],
        // Framework endpoints: the circuit hub and its helpers need a signed-in user (the fallback policy).
        ["* /_blazor/negotiate"] = [new("POST", "/_blazor/negotiate?negotiateVersion=1", Access.SignedIn)],
        ["* /_blazor"] = [new("GET", "/_blazor?id=none", Access.SignedIn, AllowedStatus: HttpStatusCode.NotFound)],
        ["* /_blazor/disconnect/"] = [new("POST", "/_blazor/disconnect/", Access.SignedIn, AllowedStatus: HttpStatusCode.BadRequest)],
        ["* /_blazor/initializers/"] = [new("GET", "/_blazor/initializers/", Access.SignedIn)],
        ["GET /_framework/opaque-redirect"] = [new("GET", "/_framework/opaque-redirect", Access.SignedIn, AllowedStatus: HttpStatusCode.BadRequest)],
        // Unknown paths: the static-file fallback. Signed-in users get the not-found page.
        ["GET|HEAD {**path:file}"] = [new("GET", "/no-such-file.txt", Access.SignedIn, AllowedStatus: HttpStatusCode.NotFound)],
        // The API reference and its document: any signed-in user (cookie); anonymous visitors go to sign in.
        ["GET /openapi/{documentName}.json"] = [new("GET", "/openapi/v1.json", Access.SignedIn)],
        ["GET /scalar/{documentName?}"] = [new("GET", "/scalar/v1", Access.SignedIn)],
        // The reference's script and icon are the package's public static files (like MudBlazor's), served to anyone.
        ["GET /scalar/scalar.js"] = [new("GET", "/scalar/scalar.js", Access.Public)],
        ["GET /scalar/scalar.aspnetcore.js"] = [new("GET", "/scalar/scalar.aspnetcore.js", Access.Public)],
        ["GET /scalar/favicon.svg"] = [new("GET", "/scalar/favicon.svg", Access.Public)],
        // /api/v1 takes personal API tokens only: a browser session (every caller here) gets 401, so no cross-site
        // request can act with it. Who may do what with a token is Automation/ApiAuthorizationMatrixTests.
        ["GET /api/v1/setups"] = [new("GET", "/api/v1/setups", Access.Viewer, BearerOnly: true)],
        ["GET /api/v1/certificates"] = [new("GET", "/api/v1/certificates", Access.Viewer, BearerOnly: true)],
        ["POST /api/v1/setups/{setupId:int}/device-batches"] = [new("POST", "/api/v1/setups/{setup}/device-batches", Access.Operator, BearerOnly: true)],
        ["GET /api/v1/approvals/{requestId:int}"] = [new("GET", "/api/v1/approvals/1", Access.Viewer, BearerOnly: true)],
        ["GET /api/v1/grants"] = [new("GET", "/api/v1/grants", Access.Viewer, BearerOnly: true)],
        ["GET /api/v1/grants/{grantId:int}"] = [new("GET", "/api/v1/grants/1", Access.Viewer, BearerOnly: true)],
        ["POST /api/v1/grants"] = [new("POST", "/api/v1/grants", Access.Operator, BearerOnly: true)],
        ["POST /api/v1/grants/{grantId:int}/certificates"] = [new("POST", "/api/v1/grants/1/certificates", Access.Operator, BearerOnly: true)],
        ["POST /api/v1/devices/{deviceId:int}/renewal"] = [new("POST", "/api/v1/devices/1/renewal", Access.Operator, BearerOnly: true)],
        ["POST /api/v1/devices/{deviceId:int}/revocation"] = [new("POST", "/api/v1/devices/1/revocation", Access.Operator, BearerOnly: true)],
        ["DELETE /api/v1/devices/{deviceId:int}/revocation"] = [new("DELETE", "/api/v1/devices/1/revocation", Access.Operator, BearerOnly: true)],
    };
}
