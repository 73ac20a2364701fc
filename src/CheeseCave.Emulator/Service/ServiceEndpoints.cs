using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Service;

/// <summary>
/// The DPS service (data-plane) API of docs/azure-wire.md §5: enrollment groups, individual enrollments and device
/// registration states, authenticated with a DPS shared access policy's SAS token. Any api-version is accepted. The
/// routes parse and render; <see cref="EnrollmentStore"/> holds the rules.
/// </summary>
internal static class ServiceEndpoints
{
    /// <summary>Items per query page when the client sends no x-ms-max-item-count.</summary>
    public const int DefaultPageSize = 100;

    /// <summary>Larger x-ms-max-item-count values are served as this many.</summary>
    public const int MaxPageSize = 1000;

    private static readonly JsonNodeOptions CaseInsensitive = new() { PropertyNameCaseInsensitive = true };

    public static WebApplication MapServiceEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        MapEnrollments(app, EnrollmentKind.Group, "/enrollmentGroups");
        MapEnrollments(app, EnrollmentKind.Individual, "/enrollments");
        MapRegistrations(app);
        foreach (var prefix in new[] { "/enrollmentGroups", "/enrollments", "/registrations" })
        {
            app.Map(prefix + "/{**rest}", (HttpContext http) => NoSuchOperation(http).ToResult(http));
        }

        return app;
    }

    private static void MapEnrollments(WebApplication app, EnrollmentKind kind, string prefix)
    {
        app.MapPut(prefix + "/{id}", async (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.EnrollmentWrite);
            if (denied is not null) return denied.ToResult(http);
            if (EnrollmentDocuments.CheckId(kind, id) is { } invalid) return invalid.ToResult(http);
            var (node, bad) = await ReadJsonAsync(http.Request).ConfigureAwait(false);
            if (bad is not null) return bad.ToResult(http);
            if (node is not JsonObject body)
            {
                return ServiceErrors.EnrollmentBodyNotObject(kind).ToResult(http);
            }

            var (entity, error) = await EnrollmentStore.PutAsync(ctx, dps!, kind, id, body, IfMatch(http.Request)).ConfigureAwait(false);
            return error is not null ? error.ToResult(http) : Json(EnrollmentDocuments.Render(entity!, EnrollmentView.WithKeys));
        });

        app.MapGet(prefix + "/{id}", (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.EnrollmentRead);
            if (denied is not null) return denied.ToResult(http);
            var entity = EnrollmentStore.Get(ctx, dps!, kind, id);
            if (entity is null) return ServiceErrors.EnrollmentNotFound(kind, id).ToResult(http);
            return Json(EnrollmentDocuments.Render(entity, EnrollmentView.Masked, kind.IsGroup ? null : OwnRegistrationState(ctx, dps!, entity.Id)));
        });

        app.MapDelete(prefix + "/{id}", async (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.EnrollmentWrite);
            if (denied is not null) return denied.ToResult(http);
            var error = await EnrollmentStore.DeleteAsync(ctx, dps!, kind, id, IfMatch(http.Request)).ConfigureAwait(false);
            return error is not null ? error.ToResult(http) : Results.NoContent();
        });

        app.MapPost(prefix + "/{id}/attestationmechanism", (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.EnrollmentRead);
            if (denied is not null) return denied.ToResult(http);
            var entity = EnrollmentStore.Get(ctx, dps!, kind, id);
            return entity is null ? ServiceErrors.EnrollmentNotFound(kind, id).ToResult(http) : Json(EnrollmentDocuments.AttestationMechanism(entity));
        });

        app.MapPost(prefix + "/query", async (HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.EnrollmentRead);
            if (denied is not null) return denied.ToResult(http);
            var (_, bad) = await ReadJsonAsync(http.Request).ConfigureAwait(false);
            if (bad is not null) return bad.ToResult(http);
            var items = ctx.Store.Enrollments.All
                .Where(e => e.IsGroup == kind.IsGroup && e.Dps.Equals(dps!.Name, StringComparison.OrdinalIgnoreCase))
                .Select(e => new PageItem(e.Id.ToLowerInvariant(), () => EnrollmentDocuments.Render(e, EnrollmentView.Masked)));
            return QueryPaging.Page(http, items, kind.ItemType, $"{kind.ItemType}|{dps!.Name.ToLowerInvariant()}");
        });

        app.MapPost(prefix, async (HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.EnrollmentWrite);
            if (denied is not null) return denied.ToResult(http);
            var (node, bad) = await ReadJsonAsync(http.Request).ConfigureAwait(false);
            if (bad is not null) return bad.ToResult(http);
            return await BulkAsync(http, ctx, dps!, kind, node).ConfigureAwait(false);
        });
    }

    private static void MapRegistrations(WebApplication app)
    {
        app.MapGet("/registrations/{id}", (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.RegistrationStatusRead);
            if (denied is not null) return denied.ToResult(http);
            var registration = ctx.Store.Registrations.Get(ArmKeys.Registration(dps!.Name, id));
            return registration is null ? ServiceErrors.RegistrationNotFound(id).ToResult(http) : Json(RegistrationState(registration));
        });

        app.MapDelete("/registrations/{id}", async (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.RegistrationStatusWrite);
            if (denied is not null) return denied.ToResult(http);
            var error = await EnrollmentStore.DeleteRegistrationAsync(ctx, dps!, id, IfMatch(http.Request)).ConfigureAwait(false);
            return error is not null ? error.ToResult(http) : Results.NoContent();
        });

        app.MapPost("/registrations/{id}/query", async (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.RegistrationStatusRead);
            if (denied is not null) return denied.ToResult(http);
            var (_, bad) = await ReadJsonAsync(http.Request).ConfigureAwait(false);
            if (bad is not null) return bad.ToResult(http);
            var items = ctx.Store.Registrations.All
                .Where(r => r.Dps.Equals(dps!.Name, StringComparison.OrdinalIgnoreCase) && string.Equals(r.EnrollmentGroupId, id, StringComparison.OrdinalIgnoreCase))
                .Select(r => new PageItem(r.RegistrationId.ToLowerInvariant(), () => RegistrationState(r)));
            return QueryPaging.Page(http, items, "DeviceRegistration", $"DeviceRegistration|{dps!.Name.ToLowerInvariant()}|{id.ToLowerInvariant()}");
        });
    }

    /// <summary>POST /enrollments or /enrollmentGroups: {mode, enrollments|enrollmentGroups: [...]}, at most 10, each applied or reported.</summary>
    private static async Task<IResult> BulkAsync(HttpContext http, EmulatorContext ctx, ProvisioningServiceEntity dps, EnrollmentKind kind, JsonNode? node)
    {
        var listField = kind.IsGroup ? "enrollmentGroups" : "enrollments";
        var usage = $"Send {{\"mode\": \"create|update|updateIfMatchETag|delete\", \"{listField}\": [ ... at most {EnrollmentStore.MaxBulkItems} ... ]}}.";
        if (node is not JsonObject body)
        {
            return ServiceErrors.BulkNotObject(usage).ToResult(http);
        }

        var mode = (body["mode"] as JsonValue)?.TryGetValue<string>(out var m) == true ? m : null;
        mode = EnrollmentStore.BulkModes.FirstOrDefault(x => x.Equals(mode, StringComparison.OrdinalIgnoreCase));
        if (mode is null)
        {
            return ServiceErrors.BulkModeUnknown(usage).ToResult(http);
        }

        if (body[listField] is not JsonArray list || list.Count == 0 || list.Any(i => i is not JsonObject))
        {
            return ServiceErrors.BulkListMissing(listField, kind, usage).ToResult(http);
        }

        if (list.Count > EnrollmentStore.MaxBulkItems)
        {
            return ServiceErrors.BulkTooLarge(EnrollmentStore.MaxBulkItems, list.Count).ToResult(http);
        }

        var errors = await EnrollmentStore.BulkAsync(ctx, dps, kind, mode, list.Cast<JsonObject>()).ConfigureAwait(false);
        return Json(new JsonObject { ["isSuccessful"] = errors.Count == 0, ["errors"] = errors });
    }

    /// <summary>The individual enrollment's own registration (one not made through a group), shown in its registrationState.</summary>
    private static JsonObject? OwnRegistrationState(EmulatorContext ctx, ProvisioningServiceEntity dps, string registrationId) =>
        ctx.Store.Registrations.Get(ArmKeys.Registration(dps.Name, registrationId)) is { EnrollmentGroupId: null } registration ? RegistrationState(registration) : null;

    /// <summary>DeviceRegistrationState as the service API returns it; absent values are left out.</summary>
    public static JsonObject RegistrationState(RegistrationEntity registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var result = new JsonObject
        {
            ["registrationId"] = registration.RegistrationId,
            ["createdDateTimeUtc"] = EnrollmentDocuments.Iso(registration.Created),
        };
        if (registration.AssignedHub is not null) result["assignedHub"] = registration.AssignedHub;
        if (registration.DeviceId is not null) result["deviceId"] = registration.DeviceId;
        result["status"] = registration.Status;
        if (registration.Substatus is not null) result["substatus"] = registration.Substatus;
        if (registration.ErrorCode is not null) result["errorCode"] = registration.ErrorCode;
        if (registration.ErrorMessage is not null) result["errorMessage"] = registration.ErrorMessage;
        result["lastUpdatedDateTimeUtc"] = EnrollmentDocuments.Iso(registration.Updated);
        result["etag"] = registration.Etag;
        if (registration.Payload is not null) result["payload"] = registration.Payload.DeepClone();
        return result;
    }

    /// <summary>The If-Match header, or null when absent.</summary>
    private static string? IfMatch(HttpRequest request)
    {
        var value = request.Headers.IfMatch.ToString().Trim();
        return value.Length == 0 ? null : value;
    }

    private static async Task<(JsonNode? Node, ServiceError? Error)> ReadJsonAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text)) return (null, null);
        try
        {
            var node = JsonNode.Parse(text, CaseInsensitive);
            Materialize(node);
            return (node, null);
        }
        catch (JsonException ex)
        {
            return (null, ServiceErrors.BodyNotJson(ex.Message));
        }
        catch (ArgumentException)
        {
            return (null, ServiceErrors.DuplicateProperty());
        }
    }

    /// <summary>Parsed JSON objects are built lazily; building them here turns duplicate property names into a 400 now rather than an error later.</summary>
    private static void Materialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, value) in obj) Materialize(value);
                break;
            case JsonArray array:
                foreach (var item in array) Materialize(item);
                break;
        }
    }

    private static IResult Json(JsonNode body) => Results.Json(body, statusCode: 200);

    private static ServiceError NoSuchOperation(HttpContext http)
    {
        var segments = (http.Request.Path.Value ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        var known = segments.Length <= 2
            || (segments.Length == 3 && (segments[2].Equals("query", StringComparison.OrdinalIgnoreCase) || segments[2].Equals("attestationmechanism", StringComparison.OrdinalIgnoreCase)));
        return known
            ? ServiceErrors.MethodNotAllowed(http.Request.Method, http.Request.Path)
            : ServiceErrors.NoSuchResource(http.Request.Path);
    }
}
