using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Service;

/// <summary>
/// The DPS service API's errors outside body validation, in one place: one method per error, each with its status,
/// six-digit code (<see cref="ErrorCodes"/>) and message. Field-by-field validation messages of an enrollment body
/// stay with <see cref="EnrollmentValidator"/>, next to the rule each one explains.
/// </summary>
internal static class ServiceErrors
{
    public static ServiceError InjectedThrottling() =>
        new(429, ErrorCodes.Throttled, "Too many requests (injected by the emulator's fault settings). Retry after the Retry-After delay.");

    public static ServiceError InjectedUnavailability() =>
        new(503, ErrorCodes.Unavailable, "The service is unavailable (injected by the emulator's fault settings). Retry later.");

    public static ServiceError MethodNotAllowed(string method, string path) =>
        new(405, ErrorCodes.MethodNotAllowed, $"The DPS service API does not support {method} on {path}.");

    public static ServiceError NoSuchResource(string path) =>
        new(404, ErrorCodes.NoSuchResource, $"The DPS service API has no resource {path}.");

    public static ServiceError BodyNotJson(string detail) =>
        ServiceError.BadRequest(ErrorCodes.InvalidRequestBody, $"The request body is not valid JSON: {detail}");

    public static ServiceError DuplicateProperty() =>
        ServiceError.BadRequest(ErrorCodes.InvalidRequestBody, "The request body has the same property twice (names are compared ignoring case). Send each property once.");

    public static ServiceError EnrollmentBodyNotObject(EnrollmentKind kind) =>
        ServiceError.BadRequest(ErrorCodes.InvalidRequestBody, $"The body must be the {kind.Noun} as a JSON object.");

    public static ServiceError InvalidMaxItemCount(string header, string requested, int defaultPageSize) =>
        ServiceError.BadRequest(ErrorCodes.InvalidMaxItemCount, $"{header} '{requested}' is not a positive whole number. Leave it out for pages of {defaultPageSize}.");

    public static ServiceError InvalidContinuationToken(string header) =>
        ServiceError.BadRequest(ErrorCodes.InvalidContinuationToken,
            $"{header} is not a token from the previous page of this query. Send the value of the last response's {header} header unchanged, or none for the first page.");

    public static ServiceError BulkNotObject(string usage) =>
        ServiceError.BadRequest(ErrorCodes.InvalidBulkOperation, "The body must be a bulk operation. " + usage);

    public static ServiceError BulkModeUnknown(string usage) =>
        ServiceError.BadRequest(ErrorCodes.InvalidBulkOperation, "The bulk operation's mode is missing or unknown. " + usage);

    public static ServiceError BulkListMissing(string listField, EnrollmentKind kind, string usage) =>
        ServiceError.BadRequest(ErrorCodes.InvalidBulkOperation, $"The bulk operation needs '{listField}': a non-empty array of {kind.Noun} objects. " + usage);

    public static ServiceError BulkTooLarge(int max, int count) =>
        ServiceError.BadRequest(ErrorCodes.InvalidBulkOperation, $"A bulk operation takes at most {max} items; this one has {count}. Split it.");

    public static ServiceError EnrollmentNotFound(EnrollmentKind kind, string id) =>
        new(404, ErrorCodes.EnrollmentNotFound, $"The {kind.Noun} '{id}' was not found in this DPS.", new JsonObject { [kind.IdField] = id });

    public static ServiceError RegistrationNotFound(string id) =>
        new(404, ErrorCodes.RegistrationNotFound, $"The device registration '{id}' was not found in this DPS: the device has not registered, or its record was deleted.",
            new JsonObject { ["registrationId"] = id });

    public static ServiceError EnrollmentExists(EnrollmentKind kind, string id, string etag) =>
        new(409, ErrorCodes.EnrollmentExists, $"The {kind.Noun} '{id}' exists: send If-Match with its etag (or '*') to update it.", new JsonObject { ["etag"] = etag });

    public static ServiceError EnrollmentExistsInBulkCreate(EnrollmentKind kind, string id) =>
        new(409, ErrorCodes.EnrollmentExists, $"The {kind.Noun} '{id}' exists; mode create adds new ones only (use update).");

    public static ServiceError NothingToMatch(EnrollmentKind kind, string id) =>
        new(412, ErrorCodes.PreconditionFailed, $"There is no {kind.Noun} '{id}' to match the If-Match etag. Leave If-Match (and etag) out to create it.");

    public static ServiceError StaleEnrollmentEtag(EnrollmentKind kind, string id) =>
        new(412, ErrorCodes.PreconditionFailed, $"The etag does not match the current etag of the {kind.Noun} '{id}': someone changed it. Read it again and retry with the new etag.");

    public static ServiceError StaleRegistrationEtag(string registrationId, string etag) =>
        new(412, ErrorCodes.PreconditionFailed, $"The If-Match etag does not match the current etag of the registration '{registrationId}' ({etag}). Read it again and retry.");

    public static ServiceError GroupQuotaExceeded(string dpsName, int count, string attestationType, int limit) =>
        new(403, ErrorCodes.QuotaExceeded,
            $"The DPS '{dpsName}' already has {count} {(attestationType == "x509" ? "X.509" : "symmetric key")} enrollment groups, the limit per DPS. Delete one first.",
            new JsonObject { ["limit"] = limit });
}
