using System.Globalization;
using System.Text.Json.Nodes;

namespace CheeseCave.Emulator.Device;

/// <summary>
/// The device registration API's errors (HTTPS and MQTT), in one place: one method per error, each with its status,
/// six-digit code (<see cref="DeviceErrorCodes"/>), message and the info object that names the reason and a hint.
/// X.509 chain refusals are built by <see cref="DeviceChainValidator.Refuse"/>, which adds the presented chain.
/// </summary>
internal static class DeviceErrors
{
    private const string SasFormatHint = "Send 'SharedAccessSignature sr={idScope}/registrations/{registrationId}&sig={signature}&skn=registration&se={expiry}'.";

    // Transport.
    public static DeviceApiError BodyNotJson(string detail) =>
        new(400, DeviceErrorCodes.BadRequest, $"The request body is not valid JSON: {detail}",
            new JsonObject { ["reason"] = "invalidJson", ["hint"] = "Send {\"registrationId\":\"...\",\"payload\":{...}} or no body." });

    public static DeviceApiError MqttPayloadNotJson(string detail) =>
        new(400, DeviceErrorCodes.BadRequest, $"The request payload is not valid JSON: {detail}", new JsonObject { ["reason"] = "invalidJson" });

    public static DeviceApiError UnknownTopic(string path, string registerTopic, string operationTopic) =>
        new(400, DeviceErrorCodes.BadRequest, $"Unknown DPS topic '{path}'.",
            new JsonObject { ["reason"] = "unknownTopic", ["hint"] = $"Publish to {registerTopic}/?$rid={{rid}} or {operationTopic}/?$rid={{rid}}&operationId={{id}}." });

    public static DeviceApiError InjectedConnectionDrop() => new(503, DeviceErrorCodes.Unavailable, "Connection dropped (injected).", []);

    public static DeviceApiError InjectedThrottling() =>
        new(429, DeviceErrorCodes.Throttled, "Too many requests (injected by the emulator's fault settings). Retry after the retry-after delay.", []);

    public static DeviceApiError InjectedUnavailability() =>
        new(503, DeviceErrorCodes.Unavailable, "The service is unavailable (injected by the emulator's fault settings). Retry later.", []);

    // The request.
    public static DeviceApiError UnknownIdScope(string idScope) =>
        new(401, DeviceErrorCodes.Unauthorized, $"ID scope '{idScope}' does not belong to any DPS of this emulator.",
            new JsonObject { ["reason"] = "unknownIdScope", ["hint"] = "Use the idScope property of the DPS resource (it starts with 0ne)." });

    public static DeviceApiError InvalidRegistrationId(string registrationId, string problem) =>
        new(400, DeviceErrorCodes.BadRequest, $"Invalid RegistrationId: {problem}",
            new JsonObject { ["reason"] = "invalidRegistrationId", ["registrationId"] = registrationId });

    public static DeviceApiError RegistrationIdMismatch(string inBody, string inPath) =>
        new(400, DeviceErrorCodes.BadRequest, $"The body's registrationId '{inBody}' differs from the registration ID '{inPath}' of the request path.",
            new JsonObject { ["reason"] = "registrationIdMismatch" });

    public static DeviceApiError TpmNotEmulated() =>
        new(400, DeviceErrorCodes.BadRequest, "TPM attestation is not emulated: use X.509 or symmetric-key attestation.", new JsonObject { ["reason"] = "notEmulated" });

    public static DeviceApiError AllocationNotEmulated(string message, string? allocationPolicy) =>
        new(400, DeviceErrorCodes.BadRequest, message, new JsonObject { ["reason"] = "notEmulated", ["allocationPolicy"] = allocationPolicy });

    public static DeviceApiError OperationNotFound(string operationId, string registrationId) =>
        new(404, DeviceErrorCodes.NotFound, $"Operation '{operationId}' was not found for registration '{registrationId}'.",
            new JsonObject { ["reason"] = "operationNotFound", ["hint"] = "Poll with the operationId returned by the register call of this registration ID." });

    public static DeviceApiError RegistrationNotFound(string registrationId, string dpsName) =>
        new(404, DeviceErrorCodes.NotFound, $"Registration '{registrationId}' has not registered with DPS '{dpsName}' yet.",
            new JsonObject { ["reason"] = "registrationNotFound", ["hint"] = "Call register first." });

    // Credentials.
    public static DeviceApiError NoCredentials() =>
        new(401, DeviceErrorCodes.Unauthorized, "The device presented neither a TLS client certificate nor a SAS token.",
            new JsonObject
            {
                ["reason"] = "noCredentials",
                ["presented"] = new JsonArray(),
                ["hint"] = "X.509 devices must present their certificate (leaf + intermediates) in the TLS handshake; symmetric-key devices send 'Authorization: SharedAccessSignature sr={idScope}/registrations/{registrationId}&sig=..&skn=registration&se=..'.",
            });

    public static DeviceApiError MalformedSas() =>
        Unauthorized("The Authorization header is not a SharedAccessSignature token.", "malformedSas", SasFormatHint);

    public static DeviceApiError SasExpired(DateTimeOffset expiresAt) =>
        Unauthorized($"The SAS token expired at {expiresAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}.", "sasExpired",
            "Create a new token with a future expiry (se, in seconds since 1970).");

    public static DeviceApiError SasResourceMismatch(string resource, string expectedResource) =>
        Unauthorized($"The SAS token is for '{resource}', not for '{expectedResource}'.", "sasResourceMismatch",
            "Sign sr={idScope}/registrations/{registrationId} for the registration being made.");

    public static DeviceApiError SasKeyName(string keyName) =>
        Unauthorized($"Device SAS tokens use skn=registration, not '{keyName}'.", "sasKeyName", "Set skn=registration.");

    public static DeviceApiError SasForNonSymmetricEnrollment(string enrollmentId, string attestationType) =>
        Unauthorized($"The individual enrollment '{enrollmentId}' uses {attestationType} attestation, but the device sent a SAS token.", "attestationMismatch",
            "Authenticate the way the enrollment says, or change the enrollment.");

    public static DeviceApiError SasSignatureInvalid(string enrollmentId) =>
        Unauthorized($"The SAS signature does not verify with the keys of individual enrollment '{enrollmentId}'.", "sasSignatureInvalid",
            "Sign with the enrollment's primary or secondary key (individual enrollments use the key as is, not a derived key).");

    public static DeviceApiError NoSymmetricKeyEnrollment(string dpsName, string registrationId) =>
        Unauthorized($"No enrollment of DPS '{dpsName}' verifies this SAS token for registration '{registrationId}'.", "noEnrollment",
            "For a symmetric-key group, derive the device key as base64(HMAC-SHA256(base64decode(groupKey), registrationId)) and sign with it; for an individual enrollment, sign with its key.");

    private static DeviceApiError Unauthorized(string message, string reason, string hint) =>
        new(401, DeviceErrorCodes.Unauthorized, message, new JsonObject { ["reason"] = reason, ["hint"] = hint });
}
