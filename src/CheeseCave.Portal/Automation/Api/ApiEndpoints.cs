using System.Text;
using System.Text.Json;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Automation.Grants;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Overview;

namespace CheeseCave.Portal.Automation.Api;

/// <summary>
/// <c>/api/v1</c> for factory lines and scripts (bearer tokens only; see docs/automation-api.md). Each operation is
/// one handler call: the handlers authorize, gate, audit and save exactly as for the pages. Renewal, revocation and
/// the inventory query will each be one more method here, mapped to their slices' handlers.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api/v1";

    public static IEndpointRouteBuilder MapAutomationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).RequireRateLimiting(ApiRateLimitPolicy.Name).WithTags("CheeseCave");

        api.MapGet("/setups", ListSetupsAsync).WithName("ListSetups").WithSummary("The setups (read scope).")
            .Produces<IReadOnlyList<ApiSetup>>();
        api.MapPost("/setups/{setupId:int}/device-batches", IssueDeviceBatchAsync).RequireIssueScope().WithName("IssueDeviceBatch")
            .WithSummary("Issue a batch of device certificates (issue scope); 202 with a status URL when approvals are on.")
            .Accepts<DeviceBatchRequest>("application/json").Produces<ApiDeviceBatch>(StatusCodes.Status201Created).Produces<PendingApproval>(StatusCodes.Status202Accepted);
        api.MapGet("/approvals/{requestId:int}", GetApprovalAsync).WithName("GetApproval").WithSummary("An approval request's state (read scope).")
            .Produces<ApprovalStatusView>();
        api.MapGet("/grants", ListGrantsAsync).WithName("ListGrants").WithSummary("Issuance grants, newest first (read scope).")
            .Produces<IReadOnlyList<GrantView>>();
        api.MapGet("/grants/{grantId:int}", GetGrantAsync).WithName("GetGrant").WithSummary("A grant and the certificates signed under it (read scope).")
            .Produces<GrantDetails>();
        api.MapPost("/grants", RequestGrantAsync).RequireIssueScope().WithName("RequestGrant")
            .WithSummary("Ask for an issuance grant (issue scope); 202 with a status URL when approvals are on.")
            .Accepts<ApiGrantRequest>("application/json").Produces<GrantView>(StatusCodes.Status201Created).Produces<PendingApproval>(StatusCodes.Status202Accepted);
        api.MapPost("/grants/{grantId:int}/certificates", SignCsrAsync).RequireIssueScope().WithName("SignCsr")
            .WithSummary("Sign a device CSR under a grant (issue scope): body PEM or {\"csr\": \"…\"}; answers JSON, or the chain PEM with Accept: application/x-pem-file.")
            .Accepts<CsrRequest>("application/json", "application/x-pem-file", "application/pkcs10", "text/plain")
            .Produces<SignedCertificate>(StatusCodes.Status201Created).Produces(StatusCodes.Status201Created, contentType: "application/x-pem-file");
        return app;
    }

    private static async Task<IResult> ListSetupsAsync(HttpContext context, SetupOverviewHandler setups, CancellationToken cancellationToken)
    {
        try
        {
            var list = await setups.ListAsync(context.User, cancellationToken).ConfigureAwait(false);
            return Results.Ok(list.Select(s => new ApiSetup(s.Id, s.Name, s.CurrentStep, s.DpsName, s.IdScope, s.UpdatedAt)).ToList());
        }
        catch (UnauthorizedAccessException)
        {
            return ApiResults.Problem(PortalError.NotAllowed("see setups"));
        }
    }

    private static async Task<IResult> IssueDeviceBatchAsync(int setupId, HttpContext context, DeviceIssuanceHandler devices, CancellationToken cancellationToken)
    {
        if (await ReadJsonAsync<DeviceBatchRequest>(context, cancellationToken).ConfigureAwait(false) is not { } body)
        {
            return BadJson("{\"registrationIds\": [\"line3-0001\"]} or {\"prefix\": \"line3-\", \"count\": 10}");
        }

        var ids = body.RegistrationIds is { Count: > 0 } given ? given : DeviceSettings.Expand(body.Prefix, body.Count ?? 0, body.Start);
        var result = await devices.IssueDevicesAsync(context.User, setupId, ids, cancellationToken).ConfigureAwait(false);
        return ApiResults.Of(result, batch => Results.Json(new ApiDeviceBatch(batch.BatchId, batch.PfxPassword, batch.KeysAvailableUntil, $"/setups/{setupId}/batches/{batch.BatchId}.zip",
            [.. batch.Devices.Select(d => Device(setupId, d))], batch.Warnings), statusCode: StatusCodes.Status201Created));
    }

    private static ApiDevice Device(int setupId, SetupDeviceView d)
    {
        var files = $"/setups/{setupId}/devices/{d.Id}/{d.RegistrationId}";
        return new(d.Id, d.RegistrationId, d.ThumbprintSha1, d.NotAfter, files + ".cert.pem", files + "-chain.pem", files + ".key.pem", files + ".pfx");
    }

    private static async Task<IResult> GetApprovalAsync(int requestId, HttpContext context, ApprovalService approvals, CancellationToken cancellationToken) =>
        ApiResults.Of(await approvals.GetAsync(context.User, requestId, cancellationToken).ConfigureAwait(false), view => Results.Ok(ApiResults.Status(view)));

    private static async Task<IResult> ListGrantsAsync(HttpContext context, GrantHandler grants, int? setupId, CancellationToken cancellationToken) =>
        ApiResults.Of(await grants.ListAsync(context.User, setupId, cancellationToken).ConfigureAwait(false), Results.Ok);

    private static async Task<IResult> GetGrantAsync(int grantId, HttpContext context, GrantHandler grants, CancellationToken cancellationToken) =>
        ApiResults.Of(await grants.GetAsync(context.User, grantId, cancellationToken).ConfigureAwait(false), Results.Ok);

    private static async Task<IResult> RequestGrantAsync(HttpContext context, GrantHandler grants, CancellationToken cancellationToken)
    {
        if (await ReadJsonAsync<ApiGrantRequest>(context, cancellationToken).ConfigureAwait(false) is not { } body)
        {
            return BadJson("{\"setupId\": 1, \"name\": \"Line 3\", \"pattern\": \"line3-*\", \"maxCount\": 1000, \"validityDays\": 365, \"expiresInDays\": 30}");
        }

        var result = await grants.RequestAsync(context.User, body.SetupId, new GrantRequest(body.Name ?? "", body.Pattern ?? "", body.MaxCount, body.ValidityDays, body.ExpiresInDays), cancellationToken).ConfigureAwait(false);
        return ApiResults.Of(result, grant => Results.Created($"{Prefix}/grants/{grant.Id}", grant));
    }

    private static async Task<IResult> SignCsrAsync(int grantId, HttpContext context, CsrSigningHandler signer, CancellationToken cancellationToken)
    {
        var csr = await ReadCsrAsync(context.Request, cancellationToken).ConfigureAwait(false);
        if (csr is null)
        {
            return ApiProblemWriter.Result(StatusCodes.Status400BadRequest, "The body holds no CSR.",
                "Send the PEM (-----BEGIN CERTIFICATE REQUEST-----) as the body, or JSON {\"csr\": \"<PEM>\"}.");
        }

        var result = await signer.SignAsync(context.User, grantId, csr, cancellationToken).ConfigureAwait(false);
        var wantsPem = context.Request.Headers.Accept.Any(a => a is not null && (a.Contains("application/x-pem-file", StringComparison.OrdinalIgnoreCase) || a.Contains("application/pem-certificate-chain", StringComparison.OrdinalIgnoreCase)));
        return ApiResults.Of(result, signed => wantsPem
            ? Results.Text(signed.ChainPem, "application/x-pem-file", Encoding.ASCII, StatusCodes.Status201Created)
            : Results.Json(signed, statusCode: StatusCodes.Status201Created));
    }

    /// <summary>The body as JSON of <typeparamref name="T"/>; null when it is missing or not that shape.</summary>
    private static async Task<T?> ReadJsonAsync<T>(HttpContext context, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(context.Request.Body, JsonSerializerOptions.Web, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IResult BadJson(string example) =>
        ApiProblemWriter.Result(StatusCodes.Status400BadRequest, "The request body is not the JSON this operation takes.", $"Send Content-Type: application/json with a body like {example}.");

    /// <summary>The CSR bytes from a PEM/DER body or a JSON {"csr": …}; null when there is none (or it is too large to be one).</summary>
    private static async Task<byte[]?> ReadCsrAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > CsrSigningHandler.MaxCsrBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > CsrSigningHandler.MaxCsrBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        var body = buffer.ToArray();
        if (body.Length == 0)
        {
            return null;
        }

        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                var parsed = JsonSerializer.Deserialize<CsrRequest>(body, JsonSerializerOptions.Web);
                return string.IsNullOrWhiteSpace(parsed?.Csr) ? null : Encoding.UTF8.GetBytes(parsed.Csr);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        return body;
    }
}
