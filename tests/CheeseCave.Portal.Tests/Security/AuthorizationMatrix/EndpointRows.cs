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
    };
}
