using System.Text.Json.Nodes;
using CheeseCave.Emulator.Hosting;
using CheeseCave.Emulator.State;

namespace CheeseCave.Emulator.Service;

/// <summary>
/// The rules of enrollments and registration records, applied inside the store's write lock: a PUT on an existing
/// enrollment needs If-Match (409 without, 412 when stale), If-Match on a missing one is 412, enrollment groups are
/// limited per DPS and attestation type, and every write gives a new etag. Returns the error to send, or null.
/// </summary>
internal static class EnrollmentStore
{
    /// <summary>Items per bulk operation, as the service documents.</summary>
    public const int MaxBulkItems = 10;

    public static readonly IReadOnlyList<string> BulkModes = ["create", "update", "updateIfMatchETag", "delete"];

    public static EnrollmentEntity? Get(EmulatorContext ctx, ProvisioningServiceEntity dps, EnrollmentKind kind, string id) =>
        ctx.Store.Enrollments.Get(ArmKeys.Enrollment(dps.Name, kind.IsGroup, id));

    /// <summary>Creates or updates an enrollment; <paramref name="ifMatch"/> is null when the header is absent.</summary>
    public static Task<(EnrollmentEntity? Entity, ServiceError? Error)> PutAsync(
        EmulatorContext ctx, ProvisioningServiceEntity dps, EnrollmentKind kind, string id, JsonObject body, string? ifMatch) =>
        ctx.Store.WriteAsync(tx =>
        {
            var existing = Get(ctx, dps, kind, id);
            if (existing is null && ifMatch is not null && ifMatch != "*")
            {
                return (null, ServiceErrors.NothingToMatch(kind, id));
            }

            if (existing is not null && ifMatch is null)
            {
                return (null, ServiceErrors.EnrollmentExists(kind, existing.Id, existing.Etag));
            }

            if (existing is not null && !EtagMatches(ifMatch!, existing.Etag))
            {
                return (null, ServiceErrors.StaleEnrollmentEtag(kind, existing.Id));
            }

            return Upsert(tx, ctx, dps, kind, id, body, existing);
        });

    /// <summary>Deletes an enrollment (its registration records stay, as on Azure); If-Match, when sent, must match.</summary>
    public static Task<ServiceError?> DeleteAsync(EmulatorContext ctx, ProvisioningServiceEntity dps, EnrollmentKind kind, string id, string? ifMatch) =>
        ctx.Store.WriteAsync(tx =>
        {
            var key = ArmKeys.Enrollment(dps.Name, kind.IsGroup, id);
            var existing = ctx.Store.Enrollments.Get(key);
            if (existing is null) return ServiceErrors.EnrollmentNotFound(kind, id);
            if (ifMatch is not null && !EtagMatches(ifMatch, existing.Etag)) return ServiceErrors.StaleEnrollmentEtag(kind, existing.Id);
            tx.Delete(ctx.Store.Enrollments, key);
            return (ServiceError?)null;
        });

    /// <summary>Applies a bulk operation's items in one transaction; each failure is reported, the others applied.</summary>
    public static Task<JsonArray> BulkAsync(EmulatorContext ctx, ProvisioningServiceEntity dps, EnrollmentKind kind, string mode, IEnumerable<JsonObject> items) =>
        ctx.Store.WriteAsync(tx =>
        {
            var failures = new JsonArray();
            foreach (var item in items)
            {
                var id = (item[kind.IdField] as JsonValue)?.TryGetValue<string>(out var s) == true ? s : null;
                var error = BulkItem(tx, ctx, dps, kind, mode, id, item);
                if (error is not null)
                {
                    failures.Add(new JsonObject { [kind.IdField] = id, ["errorCode"] = error.Code, ["errorStatus"] = error.Message });
                }
            }

            return failures;
        });

    /// <summary>Deletes a device registration record; If-Match, when sent, must match.</summary>
    public static Task<ServiceError?> DeleteRegistrationAsync(EmulatorContext ctx, ProvisioningServiceEntity dps, string id, string? ifMatch) =>
        ctx.Store.WriteAsync(tx =>
        {
            var key = ArmKeys.Registration(dps.Name, id);
            var existing = ctx.Store.Registrations.Get(key);
            if (existing is null) return ServiceErrors.RegistrationNotFound(id);
            if (ifMatch is not null && !EtagMatches(ifMatch, existing.Etag))
            {
                return ServiceErrors.StaleRegistrationEtag(existing.RegistrationId, existing.Etag);
            }

            tx.Delete(ctx.Store.Registrations, key);
            return (ServiceError?)null;
        });

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

    private static ServiceError? BulkItem(StoreTransaction tx, EmulatorContext ctx, ProvisioningServiceEntity dps, EnrollmentKind kind, string mode, string? id, JsonObject item)
    {
        if (EnrollmentDocuments.CheckId(kind, id) is { } invalid) return invalid;
        var key = ArmKeys.Enrollment(dps.Name, kind.IsGroup, id!);
        var existing = ctx.Store.Enrollments.Get(key);
        switch (mode)
        {
            case "create" when existing is not null:
                return ServiceErrors.EnrollmentExistsInBulkCreate(kind, existing.Id);
            case "updateIfMatchETag" when existing is null:
                return ServiceErrors.EnrollmentNotFound(kind, id!);
            case "updateIfMatchETag":
                var etag = (item["etag"] as JsonValue)?.TryGetValue<string>(out var e) == true ? e : null;
                if (etag is null || !EtagMatches(etag, existing!.Etag)) return ServiceErrors.StaleEnrollmentEtag(kind, existing!.Id);
                break;
            case "delete":
                if (existing is null) return ServiceErrors.EnrollmentNotFound(kind, id!);
                tx.Delete(ctx.Store.Enrollments, key);
                return null;
        }

        var (_, error) = Upsert(tx, ctx, dps, kind, id!, (JsonObject)item.DeepClone(), existing);
        return error;
    }

    /// <summary>Validates and stores an enrollment: normalises the body, enforces the per-DPS group limits, and gives it a new etag.</summary>
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
                return (null, ServiceErrors.GroupQuotaExceeded(dps.Name, count, type, limit));
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
}
