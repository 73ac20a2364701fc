using System.Text.Json;
using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Service;

/// <summary>
/// The DPS service (data-plane) API of docs/azure-wire.md §5: enrollment groups, individual enrollments and device
/// registration states, authenticated with a DPS shared access policy's SAS token. Any api-version is accepted.
/// </summary>
internal static class ServiceEndpoints
{
    /// <summary>Items per query page when the client sends no x-ms-max-item-count.</summary>
    public const int DefaultPageSize = 100;

    /// <summary>Larger x-ms-max-item-count values are served as this many.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>Items per bulk operation, as the service documents.</summary>
    public const int MaxBulkItems = 10;

    private static readonly string[] BulkModes = ["create", "update", "updateIfMatchETag", "delete"];

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
                return ServiceError.BadRequest(ErrorCodes.InvalidRequestBody, $"The body must be the {kind.Noun} as a JSON object.").ToResult(http);
            }

            var ifMatch = IfMatch(http.Request);
            var (entity, error) = await ctx.Store.WriteAsync(tx =>
            {
                var existing = ctx.Store.Enrollments.Get(ArmKeys.Enrollment(dps!.Name, kind.IsGroup, id));
                if (existing is null && ifMatch is not null && ifMatch != "*")
                {
                    return (null, PreconditionFailed($"There is no {kind.Noun} '{id}' to match the If-Match etag. Leave If-Match (and etag) out to create it."));
                }

                if (existing is not null && ifMatch is null)
                {
                    return (null, new ServiceError(409, ErrorCodes.EnrollmentExists,
                        $"The {kind.Noun} '{existing.Id}' exists: send If-Match with its etag (or '*') to update it.", new JsonObject { ["etag"] = existing.Etag }));
                }

                if (existing is not null && !EtagMatches(ifMatch!, existing.Etag))
                {
                    return (null, StaleEtag(kind, existing));
                }

                return Upsert(tx, ctx, dps, kind, id, body, existing);
            }).ConfigureAwait(false);
            return error is not null ? error.ToResult(http) : Json(EnrollmentDocuments.Render(entity!, EnrollmentView.WithKeys));
        });

        app.MapGet(prefix + "/{id}", (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.EnrollmentRead);
            if (denied is not null) return denied.ToResult(http);
            var entity = ctx.Store.Enrollments.Get(ArmKeys.Enrollment(dps!.Name, kind.IsGroup, id));
            if (entity is null) return EnrollmentNotFound(kind, id).ToResult(http);
            return Json(EnrollmentDocuments.Render(entity, EnrollmentView.Masked, kind.IsGroup ? null : OwnRegistrationState(ctx, dps, entity.Id)));
        });

        app.MapDelete(prefix + "/{id}", async (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.EnrollmentWrite);
            if (denied is not null) return denied.ToResult(http);
            var ifMatch = IfMatch(http.Request);
            var error = await ctx.Store.WriteAsync(tx =>
            {
                var key = ArmKeys.Enrollment(dps!.Name, kind.IsGroup, id);
                var existing = ctx.Store.Enrollments.Get(key);
                if (existing is null) return EnrollmentNotFound(kind, id);
                if (ifMatch is not null && !EtagMatches(ifMatch, existing.Etag)) return StaleEtag(kind, existing);
                tx.Delete(ctx.Store.Enrollments, key);
                return null;
            }).ConfigureAwait(false);
            return error is not null ? error.ToResult(http) : Results.NoContent();
        });

        app.MapPost(prefix + "/{id}/attestationmechanism", (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.EnrollmentRead);
            if (denied is not null) return denied.ToResult(http);
            var entity = ctx.Store.Enrollments.Get(ArmKeys.Enrollment(dps!.Name, kind.IsGroup, id));
            return entity is null ? EnrollmentNotFound(kind, id).ToResult(http) : Json(EnrollmentDocuments.AttestationMechanism(entity));
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
            return registration is null ? RegistrationNotFound(id).ToResult(http) : Json(RegistrationState(registration));
        });

        app.MapDelete("/registrations/{id}", async (string id, HttpContext http, EmulatorContext ctx) =>
        {
            var (dps, denied) = ServiceAuthentication.Authenticate(http, ctx, DpsRights.RegistrationStatusWrite);
            if (denied is not null) return denied.ToResult(http);
            var ifMatch = IfMatch(http.Request);
            var error = await ctx.Store.WriteAsync(tx =>
            {
                var key = ArmKeys.Registration(dps!.Name, id);
                var existing = ctx.Store.Registrations.Get(key);
                if (existing is null) return RegistrationNotFound(id);
                if (ifMatch is not null && !EtagMatches(ifMatch, existing.Etag))
                {
                    return PreconditionFailed($"The If-Match etag does not match the current etag of the registration '{existing.RegistrationId}' ({existing.Etag}). Read it again and retry.");
                }

                tx.Delete(ctx.Store.Registrations, key);
                return null;
            }).ConfigureAwait(false);
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

    /// <summary>
    /// Validates and stores an enrollment (called inside the store's write lock): normalises the body, enforces the
    /// per-DPS group limits, and gives it a new etag.
    /// </summary>
    private static (EnrollmentEntity? Entity, ServiceError? Error) Upsert(
        StoreTransaction tx, EmulatorContext ctx, ProvisioningServiceEntity dps, EnrollmentKind kind, string id, JsonObject body, EnrollmentEntity? existing)
    {
        var (normalized, error) = EnrollmentDocuments.Normalize(kind, id, body, dps, existing, ctx.Store);
        if (error is not null) return (null, error);
        var key = ArmKeys.Enrollment(dps.Name, kind.IsGroup, id);
        if (kind.IsGroup)
        {
            var type = EnrollmentDocuments.AttestationType(normalized!);
            var limit = type == "x509" ? EnrollmentDocuments.MaxX509EnrollmentGroups : EnrollmentDocuments.MaxSymmetricKeyEnrollmentGroups;
            var count = ctx.Store.Enrollments.All.Count(e => e.IsGroup && e.Dps.Equals(dps.Name, StringComparison.OrdinalIgnoreCase)
                && !ArmKeys.Enrollment(e.Dps, true, e.Id).Equals(key, StringComparison.Ordinal) && EnrollmentDocuments.AttestationType(e.Body) == type);
            if (count >= limit)
            {
                return (null, new ServiceError(403, ErrorCodes.QuotaExceeded,
                    $"The DPS '{dps.Name}' already has {count} {(type == "x509" ? "X.509" : "symmetric key")} enrollment groups, the limit per DPS. Delete one first.",
                    new JsonObject { ["limit"] = limit }));
            }
        }

        var now = ctx.Time.GetUtcNow();
        var etag = EmulatorContext.NewEtag();
        var created = existing?.Created ?? now;
        normalized!["etag"] = etag;
        normalized["createdDateTimeUtc"] = EnrollmentDocuments.Iso(created);
        normalized["lastUpdatedDateTimeUtc"] = EnrollmentDocuments.Iso(now);
        var entity = new EnrollmentEntity(dps.Name, existing?.Id ?? id, kind.IsGroup, normalized, etag, created, now);
        tx.Put(ctx.Store.Enrollments, key, entity);
        return (entity, null);
    }

    /// <summary>POST /enrollments or /enrollmentGroups: {mode, enrollments|enrollmentGroups: [...]}, at most 10, each applied or reported.</summary>
    private static async Task<IResult> BulkAsync(HttpContext http, EmulatorContext ctx, ProvisioningServiceEntity dps, EnrollmentKind kind, JsonNode? node)
    {
        var listField = kind.IsGroup ? "enrollmentGroups" : "enrollments";
        var usage = $"Send {{\"mode\": \"create|update|updateIfMatchETag|delete\", \"{listField}\": [ ... at most {MaxBulkItems} ... ]}}.";
        if (node is not JsonObject body)
        {
            return ServiceError.BadRequest(ErrorCodes.InvalidBulkOperation, "The body must be a bulk operation. " + usage).ToResult(http);
        }

        var mode = (body["mode"] as JsonValue)?.TryGetValue<string>(out var m) == true ? m : null;
        mode = BulkModes.FirstOrDefault(x => x.Equals(mode, StringComparison.OrdinalIgnoreCase));
        if (mode is null)
        {
            return ServiceError.BadRequest(ErrorCodes.InvalidBulkOperation, "The bulk operation's mode is missing or unknown. " + usage).ToResult(http);
        }

        if (body[listField] is not JsonArray list || list.Count == 0 || list.Any(i => i is not JsonObject))
        {
            return ServiceError.BadRequest(ErrorCodes.InvalidBulkOperation, $"The bulk operation needs '{listField}': a non-empty array of {kind.Noun} objects. " + usage).ToResult(http);
        }

        if (list.Count > MaxBulkItems)
        {
            return ServiceError.BadRequest(ErrorCodes.InvalidBulkOperation, $"A bulk operation takes at most {MaxBulkItems} items; this one has {list.Count}. Split it.").ToResult(http);
        }

        var errors = await ctx.Store.WriteAsync(tx =>
        {
            var failures = new JsonArray();
            foreach (var item in list.Cast<JsonObject>())
            {
                var id = (item[kind.IdField] as JsonValue)?.TryGetValue<string>(out var s) == true ? s : null;
                var error = BulkItem(tx, ctx, dps, kind, mode, id, item);
                if (error is not null)
                {
                    failures.Add(new JsonObject { [kind.IdField] = id, ["errorCode"] = error.Code, ["errorStatus"] = error.Message });
                }
            }

            return failures;
        }).ConfigureAwait(false);
        return Json(new JsonObject { ["isSuccessful"] = errors.Count == 0, ["errors"] = errors });
    }

    private static ServiceError? BulkItem(StoreTransaction tx, EmulatorContext ctx, ProvisioningServiceEntity dps, EnrollmentKind kind, string mode, string? id, JsonObject item)
    {
        if (EnrollmentDocuments.CheckId(kind, id) is { } invalid) return invalid;
        var key = ArmKeys.Enrollment(dps.Name, kind.IsGroup, id!);
        var existing = ctx.Store.Enrollments.Get(key);
        switch (mode)
        {
            case "create" when existing is not null:
                return new ServiceError(409, ErrorCodes.EnrollmentExists, $"The {kind.Noun} '{existing.Id}' exists; mode create adds new ones only (use update).");
            case "updateIfMatchETag" when existing is null:
                return EnrollmentNotFound(kind, id!);
            case "updateIfMatchETag":
                var etag = (item["etag"] as JsonValue)?.TryGetValue<string>(out var e) == true ? e : null;
                if (etag is null || !EtagMatches(etag, existing!.Etag)) return StaleEtag(kind, existing!);
                break;
            case "delete":
                if (existing is null) return EnrollmentNotFound(kind, id!);
                tx.Delete(ctx.Store.Enrollments, key);
                return null;
        }

        var (_, error) = Upsert(tx, ctx, dps, kind, id!, (JsonObject)item.DeepClone(), existing);
        return error;
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

    /// <summary>'*', or the etag verbatim; surrounding quotes and a weak W/ prefix are tolerated (clients that quote it, like ETag.ToString("H")).</summary>
    public static bool EtagMatches(string ifMatch, string etag)
    {
        ArgumentNullException.ThrowIfNull(ifMatch);
        ArgumentNullException.ThrowIfNull(etag);
        var value = ifMatch.Trim();
        if (value == "*" || value == etag) return true;
        if (value.StartsWith("W/", StringComparison.Ordinal)) value = value[2..];
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1];
        return value == etag || value == etag.Trim('"');
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
            return (null, ServiceError.BadRequest(ErrorCodes.InvalidRequestBody, $"The request body is not valid JSON: {ex.Message}"));
        }
        catch (ArgumentException)
        {
            return (null, ServiceError.BadRequest(ErrorCodes.InvalidRequestBody, "The request body has the same property twice (names are compared ignoring case). Send each property once."));
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

    private static ServiceError EnrollmentNotFound(EnrollmentKind kind, string id) =>
        new(404, ErrorCodes.EnrollmentNotFound, $"The {kind.Noun} '{id}' was not found in this DPS.", new JsonObject { [kind.IdField] = id });

    private static ServiceError RegistrationNotFound(string id) =>
        new(404, ErrorCodes.RegistrationNotFound, $"The device registration '{id}' was not found in this DPS: the device has not registered, or its record was deleted.",
            new JsonObject { ["registrationId"] = id });

    private static ServiceError PreconditionFailed(string message) => new(412, ErrorCodes.PreconditionFailed, message);

    private static ServiceError StaleEtag(EnrollmentKind kind, EnrollmentEntity existing) =>
        PreconditionFailed($"The etag does not match the current etag of the {kind.Noun} '{existing.Id}': someone changed it. Read it again and retry with the new etag.");

    private static ServiceError NoSuchOperation(HttpContext http)
    {
        var segments = (http.Request.Path.Value ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        var known = segments.Length <= 2
            || (segments.Length == 3 && (segments[2].Equals("query", StringComparison.OrdinalIgnoreCase) || segments[2].Equals("attestationmechanism", StringComparison.OrdinalIgnoreCase)));
        return known
            ? new ServiceError(405, ErrorCodes.MethodNotAllowed, $"The DPS service API does not support {http.Request.Method} on {http.Request.Path}.")
            : new ServiceError(404, ErrorCodes.NoSuchResource, $"The DPS service API has no resource {http.Request.Path}.");
    }
}
