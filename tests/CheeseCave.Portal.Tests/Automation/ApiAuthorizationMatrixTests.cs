using System.Net;
using System.Text;
using CheeseCave.Portal.Persistence;
using CheeseCave.Portal.Automation.Tokens;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CheeseCave.Portal.Tests.Automation;

/// <summary>
/// Every /api/v1 endpoint against every kind of token caller: no token and a revoked token → 401; a token whose scope
/// or user's role is too low (a read token, an issue token on an operate endpoint and the reverse, a demoted user's
/// token with every scope) → 403; an allowed caller passes the checks
/// (each sample aims at something missing or invalid, so nothing changes either way). Refusals change nothing.
/// </summary>
public sealed class ApiAuthorizationMatrixTests
{
    public enum TokenCaller
    {
        NoToken,
        Revoked,
        ViewerRead,
        OperatorRead,
        OperatorIssue,
        OperatorOperate,
        DemotedAllScopes,
    }

    /// <param name="Scope">The scope the operation needs beyond read (null: read is enough).</param>
    private sealed record ApiSample(string Method, string Path, string? Scope, HttpStatusCode Allowed, string? Body = null);

    private const string Issue = "issue";
    private const string Operate = "operate";

    private static readonly Dictionary<string, ApiSample> Samples = new(StringComparer.Ordinal)
    {
        ["GET /api/v1/setups"] = new("GET", "/api/v1/setups", null, HttpStatusCode.OK),
        ["GET /api/v1/certificates"] = new("GET", "/api/v1/certificates?kind=device&take=10", null, HttpStatusCode.OK),
        ["POST /api/v1/setups/{setupId:int}/device-batches"] = new("POST", "/api/v1/setups/{setup}/device-batches", Issue, HttpStatusCode.BadRequest, """{"registrationIds": []}"""),
        ["GET /api/v1/approvals/{requestId:int}"] = new("GET", "/api/v1/approvals/987654", null, HttpStatusCode.NotFound),
        ["GET /api/v1/grants"] = new("GET", "/api/v1/grants", null, HttpStatusCode.OK),
        ["GET /api/v1/grants/{grantId:int}"] = new("GET", "/api/v1/grants/987654", null, HttpStatusCode.NotFound),
        ["POST /api/v1/grants"] = new("POST", "/api/v1/grants", Issue, HttpStatusCode.BadRequest, """{"setupId": {setup}, "name": "all", "pattern": "*", "maxCount": 1, "validityDays": 1}"""),
        ["POST /api/v1/grants/{grantId:int}/certificates"] = new("POST", "/api/v1/grants/987654/certificates", Issue, HttpStatusCode.NotFound, "{csr}"),
        ["POST /api/v1/devices/{deviceId:int}/renewal"] = new("POST", "/api/v1/devices/987654/renewal", Operate, HttpStatusCode.NotFound),
        ["POST /api/v1/devices/{deviceId:int}/revocation"] = new("POST", "/api/v1/devices/987654/revocation", Operate, HttpStatusCode.NotFound, """{"reason": "stolen"}"""),
        ["DELETE /api/v1/devices/{deviceId:int}/revocation"] = new("DELETE", "/api/v1/devices/987654/revocation", Operate, HttpStatusCode.NotFound),
    };

    [Fact]
    public async Task Every_api_endpoint_answers_every_kind_of_token_as_its_scope_and_role_say()
    {
        await using var portal = await ApiPortal.StartAsync(name: "matrix");
        var endpoints = portal.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .Select(e => $"{string.Join("|", e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods)} {e.RoutePattern.RawText}").ToList();
        Assert.Empty(endpoints.Except(Samples.Keys));

        var tokens = await TokensAsync(portal);
        var failures = new List<string>();
        foreach (var caller in Enum.GetValues<TokenCaller>())
        {
            using var client = portal.Client(tokens.GetValueOrDefault(caller));
            foreach (var (key, sample) in Samples)
            {
                var expected = caller is TokenCaller.NoToken or TokenCaller.Revoked ? HttpStatusCode.Unauthorized
                    : sample.Scope is { } scope && caller != (scope == Issue ? TokenCaller.OperatorIssue : TokenCaller.OperatorOperate) ? HttpStatusCode.Forbidden
                    : sample.Allowed;
                var before = await CountsAsync(portal);
                using var request = new HttpRequestMessage(new HttpMethod(sample.Method), new Uri(sample.Path.Replace("{setup}", portal.SetupId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), UriKind.Relative));
                if (sample.Body is { } body)
                {
                    request.Content = body == "{csr}"
                        ? new StringContent(ApiPortal.Csr("line3-0001"), Encoding.ASCII, "application/x-pem-file")
                        : new StringContent(body.Replace("{setup}", portal.SetupId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), Encoding.UTF8, "application/json");
                }

                using var response = await client.SendAsync(request);
                if (response.StatusCode != expected)
                {
                    failures.Add($"{caller} {key}: expected {(int)expected}, got {(int)response.StatusCode}.");
                }
                else if ((int)expected >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    failures.Add($"{caller} {key}: {(int)expected} without a problem body.");
                }

                if (await CountsAsync(portal) != before)
                {
                    failures.Add($"{caller} {key}: the database changed.");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static async Task<Dictionary<TokenCaller, string>> TokensAsync(ApiPortal portal)
    {
        var viewer = await portal.UserAsync("mx-viewer", PortalRoles.Viewer);
        var demoted = await portal.UserAsync("mx-demoted", PortalRoles.Operator);
        var tokens = new Dictionary<TokenCaller, string>
        {
            [TokenCaller.Revoked] = await portal.TokenAsync(portal.Operator, "read", "issue"),
            [TokenCaller.ViewerRead] = await portal.TokenAsync(viewer, "read"),
            [TokenCaller.OperatorRead] = await portal.TokenAsync(portal.Operator, "read"),
            [TokenCaller.OperatorIssue] = await portal.TokenAsync(portal.Operator, "read", "issue"),
            [TokenCaller.OperatorOperate] = await portal.TokenAsync(portal.Operator, "read", "operate"),
            [TokenCaller.DemotedAllScopes] = await portal.TokenAsync(demoted, "read", "issue", "operate"),
        };
        var revokedId = await portal.Factory.WithDbAsync(db => db.ApiTokens.Where(t => t.SecretHash == ApiTokenSecrets.Hash(tokens[TokenCaller.Revoked])).Select(t => t.Id).SingleAsync());
        Assert.True((await portal.UseAsync<PortalResult<ApiTokenView>, ApiTokenService>(s => s.RevokeAsync(portal.Operator, revokedId))).Succeeded);
        await using var scope = portal.Factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.GetUserAsync(demoted);
        Assert.True((await users.RemoveFromRoleAsync(user!, PortalRoles.Operator)).Succeeded);
        Assert.True((await users.AddToRoleAsync(user!, PortalRoles.Viewer)).Succeeded);
        return tokens;
    }

    private static Task<string> CountsAsync(ApiPortal portal) => portal.Factory.WithDbAsync(async db =>
        $"{await db.SetupDevices.CountAsync()}/{await db.IssuanceGrants.CountAsync()}/{await db.ApprovalRequests.CountAsync()}/{await db.ApiTokens.CountAsync()}");
}
