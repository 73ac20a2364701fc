using System.Text;
using System.Text.Json;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Automation.Grants;
using System.Globalization;
using CheeseCave.Portal.Setups.Devices;
using CheeseCave.Portal.Setups.Inventory;
using CheeseCave.Portal.Setups.Overview;
using CheeseCave.Portal.Setups.Renewal;
using CheeseCave.Portal.Setups.Revocation;

namespace CheeseCave.Portal.Automation.Api;

/// <summary>
/// <c>/api/v1</c> for factory lines and scripts (bearer tokens only; see docs/automation-api.md). Each operation is
/// one handler call: the handlers authorize, gate, audit and save exactly as for the pages. The
/// the inventory query is one more method here, mapped to its slice's handler.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api/v1";

    public static IEndpointRouteBuilder MapAutomationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).RequireRateLimiting(ApiRateLimitPolicy.Name).WithTags("CheeseCave");

        api.MapGet("/setups", ListSetupsAsync).WithName("ListSetups").WithSummary("The setups (read scope).")
            .Produces<IReadOnlyList<ApiSetup>>();
        api.MapGet("/certificates", ListCertificatesAsync).WithName("ListCertificates")
            .WithSummary("The certificate inventory (read scope): the /certificates page's filters (setup, kind, status, expiringWithin, q, sort, desc), skip and take (at most 200), placement=true for the live DPS registration of each device.")
            .Produces<InventoryPage>();
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
        api.MapPost("/devices/{deviceId:int}/renewal", RenewDeviceAsync).RequireOperateScope().WithName("RenewDevice")
            .WithSummary("Renew a device certificate for the same registration id (operate scope): no body (or {}) and the portal makes the key, or the device's CSR as PEM or {\"csr\": \"…\"}; 202 with a status URL when approvals are on.")
            .Accepts<RenewalRequest>(true, "application/json", "application/x-pem-file", "text/plain")
            .Produces<ApiDeviceRenewal>(StatusCodes.Status201Created).Produces<PendingApproval>(StatusCodes.Status202Accepted);
        api.MapPost("/devices/{deviceId:int}/revocation", RevokeDeviceAsync).RequireOperateScope().WithName("RevokeDevice")
            .WithSummary("Revoke a device (operate scope): DPS refuses it and its hub identity is disabled; body {\"reason\": \"…\"}; 202 with a status URL when approvals are on.")
            .Accepts<RevocationRequest>("application/json").Produces<DeviceRevocationView>().Produces<PendingApproval>(StatusCodes.Status202Accepted);
        api.MapDelete("/devices/{deviceId:int}/revocation", RestoreDeviceAsync).RequireOperateScope().WithName("RestoreDevice")
            .WithSummary("Restore a revoked device (operate scope): DPS accepts it again and its hub identity is enabled; 202 with a status URL when approvals are on.")
            .Produces<DeviceRevocationView>().Produces<PendingApproval>(StatusCodes.Status202Accepted);
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

    private static async Task<IResult> ListCertificatesAsync(HttpContext context, InventoryHandler inventory, CancellationToken cancellationToken)
    {
        var (query, problem) = InventoryEndpoints.ParseQuery(context.Request.Query);
        if (problem is not null)
        {
            return ApiProblemWriter.Result(StatusCodes.Status400BadRequest, problem, "Fix that query parameter; GET /openapi/v1.json lists them.");
        }

        var skip = Number(context.Request.Query["skip"], 0);
        var take = Number(context.Request.Query["take"], 50);
        if (skip is null or < 0 || take is null or < 1 or > InventoryQuery.MaxTake)
        {
            return ApiProblemWriter.Result(StatusCodes.Status400BadRequest, "'skip' is a number from 0 and 'take' a number from 1 to 200.", "Page with skip=0&take=50, then skip=50, …");
        }

        var placement = context.Request.Query["placement"].ToString() is "1" or "true";
        var result = await inventory.QueryAsync(context.User, query with { Skip = skip.Value, Take = take.Value, IncludeDps = placement }, cancellationToken).ConfigureAwait(false);
        return ApiResults.Of(result, Results.Ok);
    }

    private static int? Number(string? text, int fallback) =>
        string.IsNullOrWhiteSpace(text) ? fallback : int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

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

    private static async Task<IResult> RenewDeviceAsync(int deviceId, HttpContext context, DeviceRenewalHandler renewal, DeviceCertificateReader certificates, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(context.Request, cancellationToken).ConfigureAwait(false);
        string? csr = null;
        if (body is null)
        {
            return ApiProblemWriter.Result(StatusCodes.Status400BadRequest, $"The request body is larger than a CSR can be ({CsrSigningHandler.MaxCsrBytes:N0} bytes).", "Send no body to have the portal make the key, or the device's PEM CSR.");
        }

        if (IsJson(context.Request) && body.Length > 0)
        {
            if (ParseJson<RenewalRequest>(body) is not { } parsed)
            {
                return BadJson("{\"csr\": \"-----BEGIN CERTIFICATE REQUEST-----…\"} or {} (or no body) for a key the portal makes");
            }

            csr = parsed.Csr;
        }
        else if (body.Length > 0)
        {
            csr = Encoding.UTF8.GetString(body);
        }

        var result = await renewal.RenewDeviceAsync(context.User, deviceId, csr, cancellationToken).ConfigureAwait(false);
        if (result.Value is not { } renewed)
        {
            return ApiResults.Of(result, _ => Results.StatusCode(StatusCodes.Status500InternalServerError));
        }

        // The setup is the renewed certificate's; read it as the caller would on the certificate page.
        var details = await certificates.GetDeviceAsync(context.User, renewed.Device.Id, cancellationToken).ConfigureAwait(false);
        return ApiResults.Of(details, d => Results.Created($"/certificates/devices/{renewed.Device.Id}", Renewal(d.SetupId, renewed)));
    }

    private static ApiDeviceRenewal Renewal(int setupId, DeviceRenewalView renewed)
    {
        var d = renewed.Device;
        var files = $"/setups/{setupId}/devices/{d.Id}/{Uri.EscapeDataString(d.RegistrationId)}";
        var hasKey = renewed.PfxPassword is not null;
        return new(d.Id, d.RegistrationId, d.ThumbprintSha1, d.NotAfter, renewed.RenewedDeviceId, files + ".cert.pem", files + "-chain.pem",
            hasKey ? files + ".key.pem" : null, hasKey ? files + ".pfx" : null, renewed.PfxPassword, renewed.KeysAvailableUntil,
            $"/certificates/devices/{d.Id}", renewed.IndividualEnrollmentUpdated, renewed.Warnings);
    }

    private static async Task<IResult> RevokeDeviceAsync(int deviceId, HttpContext context, DeviceRevocationHandler revocation, CancellationToken cancellationToken)
    {
        if (await ReadJsonAsync<RevocationRequest>(context, cancellationToken).ConfigureAwait(false) is not { } body)
        {
            return BadJson("{\"reason\": \"stolen from line 3\"}");
        }

        return ApiResults.Of(await revocation.RevokeDeviceAsync(context.User, deviceId, body.Reason ?? "", cancellationToken).ConfigureAwait(false), Results.Ok);
    }

    private static async Task<IResult> RestoreDeviceAsync(int deviceId, HttpContext context, DeviceRevocationHandler revocation, CancellationToken cancellationToken) =>
        ApiResults.Of(await revocation.RestoreDeviceAsync(context.User, deviceId, cancellationToken).ConfigureAwait(false), Results.Ok);

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
        var body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        if (body is not { Length: > 0 })
        {
            return null;
        }

        if (IsJson(request))
        {
            return ParseJson<CsrRequest>(body) is { Csr: { } pem } && !string.IsNullOrWhiteSpace(pem) ? Encoding.UTF8.GetBytes(pem) : null;
        }

        return body;
    }

    private static bool IsJson(HttpRequest request) => request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true;

    private static T? ParseJson<T>(byte[] body)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The whole body (empty when there is none); null when it is larger than a CSR can be, read no further.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
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

        return buffer.ToArray();
    }
}
