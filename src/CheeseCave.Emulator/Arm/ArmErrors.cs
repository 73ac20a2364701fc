namespace CheeseCave.Emulator.Arm;

/// <summary>
/// Every ARM error the emulator sends, in one place (as Azurite's StorageErrorFactory): one method per error, each
/// with its status, code and message. The result can be thrown (inside a handler or a store transaction, the ARM
/// filter renders it) or rendered at once with <see cref="ArmErrorException.ToResult"/>. The texts are part of the
/// wire behaviour the conformance suite checks: change them deliberately.
/// </summary>
internal static class ArmErrors
{
    // Host and authentication.
    public static ArmErrorException NoSuchRoute(string method, string path) =>
        new(404, "NotFound", $"The emulator does not serve {method} {path}.") { FromFrontDoor = true };

    public static ArmErrorException AuthorizationMissing() =>
        new(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing: send 'Bearer <bearerToken from endpoints.json>'.") { FromFrontDoor = true };

    public static ArmErrorException InvalidAuthenticationToken() =>
        new(401, "InvalidAuthenticationToken", "The access token is invalid: use the bearerToken from the emulator's endpoints.json (it changes at each start).") { FromFrontDoor = true };

    public static ArmErrorException InjectedThrottling() =>
        new(429, "TooManyRequests", "Too many requests (injected by the emulator's fault settings). Retry after the Retry-After delay.") { FromFrontDoor = true };

    public static ArmErrorException InjectedUnavailability() =>
        new(503, "ServiceUnavailable", "The service is unavailable (injected by the emulator's fault settings). Retry later.") { FromFrontDoor = true };

    // Request shape.
    public static ArmErrorException MissingApiVersionParameter() =>
        new(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.") { FromFrontDoor = true };

    public static ArmErrorException RequestNotDeserialized(string detail) =>
        new(400, "InvalidRequestContent", $"The request content was invalid and could not be deserialized: {detail}") { FromFrontDoor = true };

    public static ArmErrorException EmptyBody() =>
        RequestNotDeserialized("the body is empty, a JSON object is required.");

    public static ArmErrorException NotAString(string path) => InvalidRequestContent($"'{path}' must be a string.");

    public static ArmErrorException NotABoolean(string path) => InvalidRequestContent($"'{path}' must be true or false.");

    public static ArmErrorException NotAnInteger(string path) => InvalidRequestContent($"'{path}' must be an integer.");

    public static ArmErrorException NotAnObject(string path) => InvalidRequestContent($"'{path}' must be a JSON object.");

    public static ArmErrorException NotAnArray(string path) => InvalidRequestContent($"'{path}' must be a JSON array.");

    public static ArmErrorException NameToCheckRequired(string resourceNoun) =>
        InvalidRequestContent($"'name' is required: the {resourceNoun} name to check.");

    public static ArmErrorException ProvisioningServiceTagsRequired() =>
        InvalidRequestContent("'tags' is required: PATCH on a provisioning service updates its tags only (use PUT for the rest).");

    public static ArmErrorException IotHubTagsRequired() =>
        InvalidRequestContent("'tags' is required: PATCH on an IoT hub updates its tags only.");

    public static ArmErrorException TooManyTags() => new(400, "InvalidTag", "A resource can have at most 50 tags.");

    public static ArmErrorException TagNotAString(string key) => new(400, "InvalidTag", $"The tag '{key}' must have a string value.");

    public static ArmErrorException LocationRequired() =>
        new(400, "LocationRequired", "The location property is required for this definition.");

    // Subscription, resource groups, resources.
    public static ArmErrorException SubscriptionNotFound(string subscriptionId) =>
        new(404, "SubscriptionNotFound", $"The subscription '{subscriptionId}' could not be found. The emulator has one subscription: see subscriptionId in endpoints.json.") { FromFrontDoor = true };

    public static ArmErrorException ResourceGroupNotFound(string name) =>
        new(404, "ResourceGroupNotFound", $"Resource group '{name}' could not be found.") { FromFrontDoor = true };

    public static ArmErrorException InvalidResourceGroupName(string name) =>
        new(400, "InvalidResourceGroupName", $"'{name}' is not a valid resource group name: 1-90 letters, digits, '.', '_', '-', '(' or ')', not ending in '.'.") { FromFrontDoor = true };

    public static ArmErrorException ResourceGroupNotEmpty(string name) =>
        new(409, "ResourceGroupNotEmpty", $"The resource group '{name}' still holds provisioning services or IoT hubs; the emulator deletes only empty groups. Delete them first.") { FromFrontDoor = true };

    public static ArmErrorException InvalidResourceNamespace(string providerNamespace) =>
        new(404, "InvalidResourceNamespace", $"The resource namespace '{providerNamespace}' is invalid or not emulated; the emulator serves Microsoft.Devices.") { FromFrontDoor = true };

    public static ArmErrorException ResourceNotFound(string type, string name, string resourceGroup) =>
        new(404, "ResourceNotFound", $"The Resource '{type}/{name}' under resource group '{resourceGroup}' was not found.") { FromFrontDoor = true };

    public static ArmErrorException OperationNotFound(string operationId) =>
        new(404, "OperationNotFound", $"The operation '{operationId}' was not found: use the Azure-AsyncOperation URL returned by the request that started it.") { FromFrontDoor = true };

    /// <summary><paramref name="resourceNoun"/>: "provisioning service" or "IoT hub".</summary>
    public static ArmErrorException KeyNameNotFound(string resourceNoun, string resourceName, string keyName, IEnumerable<string> policies) =>
        new(404, "KeyNameNotFound", $"The {resourceNoun} '{resourceName}' has no shared access policy '{keyName}'. Its policies: {string.Join(", ", policies)}.");

    /// <summary>If-Match on a PUT of an existing DPS or hub; <paramref name="resourceNoun"/> as in <see cref="KeyNameNotFound"/>.</summary>
    public static ArmErrorException PreconditionFailed(string resourceNoun, string name) =>
        new(412, "PreconditionFailed", $"The etag in If-Match does not match the current etag of {resourceNoun} '{name}'. Read it again and retry with the new etag.");

    public static ArmErrorException InvalidResourceLocation(string name, string location, string resourceGroup, string requestedLocation) =>
        new(409, "InvalidResourceLocation",
            $"The resource '{name}' already exists in location '{location}' in resource group '{resourceGroup}'. A resource with the same name cannot be created in location '{requestedLocation}'.");

    public static ArmErrorException InvalidSkuCapacity() => new(400, "InvalidSkuCapacity", "sku.capacity must be at least 1.");

    // Provisioning services.
    public static ArmErrorException InvalidProvisioningServiceName(string name) =>
        new(400, "InvalidResourceName", ArmNames.InvalidProvisioningServiceNameMessage(name));

    public static ArmErrorException ProvisioningServiceNameUnavailable(string name, string ownerResourceGroup, string ownerName) =>
        new(409, "NameUnavailable",
            $"The provisioning service name '{name}' is already taken (by a provisioning service in resource group '{ownerResourceGroup}'). Names are global because they form the host name {ownerName.ToLowerInvariant()}.azure-devices-provisioning.net; choose another name.");

    public static ArmErrorException ProvisioningServiceSkuUnknown(string skuName) =>
        new(400, "InvalidSku", $"sku.name '{skuName}' is not a provisioning service SKU; the only SKU is S1.");

    public static ArmErrorException InvalidAllocationPolicy(string allocationPolicy, IEnumerable<string> allowed) =>
        new(400, "InvalidAllocationPolicy", $"properties.allocationPolicy '{allocationPolicy}' is not one of {string.Join(", ", allowed)}.");

    public static ArmErrorException TooManyLinkedIotHubs(int max, int count) =>
        new(400, "TooManyLinkedIotHubs", $"A provisioning service can link at most {max} IoT hubs; the request has {count}.");

    public static ArmErrorException LinkedHubTwice(string host, string path) =>
        InvalidRequestContent($"The IoT hub '{host}' is linked twice ({path}); link each hub once.");

    public static ArmErrorException AllocationWeightOutOfRange(string path, long weight) =>
        InvalidRequestContent($"'{path}.allocationWeight' must be between 1 and 1000 (it is {weight}).");

    public static ArmErrorException HubConnectionStringRequired(string path) =>
        new(400, "InvalidIotHubConnectionString",
            $"'{path}.connectionString' is required: the hub's connection string from its listkeys, HostName=<hub>.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=<key>.");

    public static ArmErrorException HubConnectionStringMalformed(string path) =>
        new(400, "InvalidIotHubConnectionString",
            $"'{path}.connectionString' is not an IoT hub connection string: it needs HostName, SharedAccessKeyName and SharedAccessKey (HostName=<hub>.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=<key>).");

    public static ArmErrorException HubKeyMasked(string path, string host, string keyName) =>
        new(400, "InvalidIotHubConnectionString",
            $"The SharedAccessKey in '{path}.connectionString' is masked, and '{host}' is not linked with the policy '{keyName}' yet: send the full connection string from the hub's listkeys.");

    public static ArmErrorException LinkedHubNotFound(string host, string path) =>
        new(400, "IotHubNotFound",
            $"The IoT hub '{host}' ({path}.connectionString) does not exist in this emulator. Create the hub first (PUT .../providers/Microsoft.Devices/IotHubs/<name>) and link it with its iothubowner connection string from listkeys.");

    public static ArmErrorException HubPolicyNotFound(string host, string keyName, string path) =>
        new(400, "InvalidIotHubConnectionString",
            $"The IoT hub '{host}' has no shared access policy '{keyName}' ({path}.connectionString); link with iothubowner.");

    public static ArmErrorException HubKeyWrong(string path, string keyName, string host) =>
        new(400, "InvalidIotHubConnectionString",
            $"The SharedAccessKey in '{path}.connectionString' is not a key of the policy '{keyName}' of IoT hub '{host}': copy the connection string from the hub's listkeys again.");

    public static ArmErrorException HubPolicyLacksRights(string keyName, string host, IEnumerable<string> missing) =>
        new(400, "InvalidIotHubConnectionString",
            $"The access policy '{keyName}' of IoT hub '{host}' lacks {string.Join(" and ", missing)}, which DPS needs to create devices in the hub; link with iothubowner.");

    public static ArmErrorException PolicyKeyNameRequired(string path) =>
        InvalidRequestContent($"'{path}.keyName' is required (1 to 64 characters).");

    public static ArmErrorException PolicyTwice(string keyName) =>
        InvalidRequestContent($"The shared access policy '{keyName}' appears twice in properties.authorizationPolicies.");

    public static ArmErrorException InvalidSharedAccessKey(string path) =>
        InvalidRequestContent($"'{path}' must be base64 of 16 to 64 bytes (or leave it out and the emulator generates one).");

    public static ArmErrorException RightsRequired(string path, IEnumerable<string> allowed) =>
        InvalidRequestContent($"'{path}' is required: one or more of {string.Join(", ", allowed)}, comma-separated.");

    public static ArmErrorException UnknownRight(string path, string right, IEnumerable<string> allowed) =>
        InvalidRequestContent($"'{path}' has the unknown right '{right}'; the rights are {string.Join(", ", allowed)}.");

    // IoT hubs.
    public static ArmErrorException InvalidIotHubName(string name) =>
        new(400, "InvalidIotHubName", ArmNames.InvalidIotHubNameMessage(name));

    public static ArmErrorException IotHubNameNotAvailable(string name, string ownerResourceGroup, string ownerHostName) =>
        new(409, "IotHubNameNotAvailable",
            $"The IoT hub name '{name}' is already taken (by a hub in resource group '{ownerResourceGroup}'). IoT hub names are global because they form the host name {ownerHostName}; choose another name.");

    public static ArmErrorException IotHubSkuRequired(IEnumerable<string> skus) =>
        new(400, "InvalidSku", $"'sku' is required, for example {{\"name\":\"S1\",\"capacity\":1}}; sku.name is one of {string.Join(", ", skus)}.");

    public static ArmErrorException IotHubSkuUnknown(string? skuName, IEnumerable<string> skus) =>
        new(400, "InvalidSku", $"sku.name '{skuName}' is not an IoT hub SKU; use one of {string.Join(", ", skus)}.");

    public static ArmErrorException FreeSkuCapacity() =>
        new(400, "InvalidSkuCapacity", "The F1 (free) SKU has exactly one unit: sku.capacity must be 1.");

    // DPS certificates and proof of possession.
    public static ArmErrorException CertificateNotFound(string name, string dpsName) =>
        new(404, "ResourceNotFound", $"The certificate '{name}' was not found on provisioning service '{dpsName}'.");

    public static ArmErrorException InvalidCertificateName(int maxLength, int length) =>
        new(400, "InvalidCertificateName", $"The certificate name must have 1 to {maxLength} characters (it has {length}).");

    public static ArmErrorException CertificateLimitExceeded(string dpsName, int max) =>
        new(400, "CertificateLimitExceeded", $"The provisioning service '{dpsName}' already holds {max} certificates, the DPS limit. Delete one before uploading another.");

    /// <summary><paramref name="operation"/> starts the sentence: "verify", "Deleting a certificate".</summary>
    public static ArmErrorException MissingIfMatchHeader(string operation, string certificateName) =>
        new(400, "MissingIfMatchHeader", $"{operation} needs an If-Match header: read the certificate '{certificateName}' and send its etag (or '*').");

    public static ArmErrorException CertificateExistsWithoutIfMatch(string name) =>
        new(412, "PreconditionFailed",
            $"The certificate '{name}' already exists: updating it needs If-Match with its current etag (or '*'). Read the certificate again and send its etag.");

    public static ArmErrorException CertificateEtagStale(string name) =>
        new(412, "PreconditionFailed",
            $"The etag in If-Match does not match the current etag of certificate '{name}' (like DPS's IH412001 \"Invalid ETag supplied\"). The etag changes after every step: read the certificate again and retry with its new etag.");

    public static ArmErrorException VerificationCodeMissing(string name) =>
        new(400, "VerificationCodeMissing",
            $"The certificate '{name}' has no current verification code: generate a verification code first (POST .../generateVerificationCode), then sign a certificate with that code as its CN.");

    public static ArmErrorException VerificationCommonNameMismatch(string code, string? commonName) =>
        new(400, "InvalidVerificationCertificate",
            $"Proof-of-possession failed: the verification certificate's CN must be the current verification code '{code}', but it is '{commonName ?? "(no CN)"}'. Generate a code, then issue the verification certificate with exactly that CN.");

    public static ArmErrorException VerificationSignedByAnotherKey(string caSubject) =>
        new(400, "InvalidVerificationCertificate",
            $"Proof-of-possession failed (IH400053): the verification certificate names '{caSubject}' as its issuer, but its signature does not verify with that certificate's key; it was signed by a different key. Sign it with exactly this CA's private key.");

    public static ArmErrorException VerificationSignedByAnotherIssuer(string issuer, string caSubject) =>
        new(400, "InvalidVerificationCertificate",
            $"Proof-of-possession failed (IH400053): the verification certificate was signed by '{issuer}', not by the key of '{caSubject}' (the certificate being verified). Sign it with exactly this CA.");

    public static ArmErrorException VerificationCertificateNotValidNow(string notBefore, string notAfter) =>
        new(400, "InvalidVerificationCertificate", $"The verification certificate is valid from {notBefore} to {notAfter}, not now; issue a new one.");

    public static ArmErrorException CertificateRequired(string path) =>
        new(400, "InvalidCertificate", $"'{path}' is required: the certificate as PEM text, base64 of the PEM text, or base64 of the DER (.cer) bytes.");

    public static ArmErrorException CertificateNotPemOrBase64(string path) =>
        new(400, "InvalidCertificate", $"'{path}' is neither PEM text nor base64: send the certificate as PEM, base64 of the PEM text, or base64 of the DER (.cer) bytes.");

    public static ArmErrorException CertificateEmpty(string path) => new(400, "InvalidCertificate", $"'{path}' is empty.");

    public static ArmErrorException CertificateUnreadable(string path, string detail) =>
        new(400, "InvalidCertificate", $"'{path}' could not be read as a certificate: {detail}");

    public static ArmErrorException NotExactlyOneCertificate(string path, int count) =>
        new(400, "InvalidCertificate", $"'{path}' holds {count} certificates; send exactly one (the CA certificate itself, not its chain).");

    public static ArmErrorException PrivateKeyRefused(string path) =>
        new(400, "InvalidCertificate", $"'{path}' contains a private key. Never upload a private key: send only the public certificate (.pem or .cer); DPS needs nothing else.");

    /// <summary>
    /// The last three digits of the numeric code a DPS error carries in the flat shape (status × 1000 + this). Azure's
    /// own numbers are not published (one recorded refusal said 400309); these are the emulator's, stable per error.
    /// </summary>
    private static readonly Dictionary<string, int> DetailNumbers = new(StringComparer.Ordinal)
    {
        ["InvalidRequestContent"] = 1,
        ["InvalidResourceName"] = 2,
        ["NameUnavailable"] = 3,
        ["InvalidResourceLocation"] = 4,
        ["InvalidSku"] = 5,
        ["InvalidSkuCapacity"] = 6,
        ["InvalidAllocationPolicy"] = 7,
        ["LocationRequired"] = 8,
        ["InvalidTag"] = 9,
        ["InvalidIotHubConnectionString"] = 10,
        ["IotHubNotFound"] = 11,
        ["TooManyLinkedIotHubs"] = 12,
        ["KeyNameNotFound"] = 13,
        ["PreconditionFailed"] = 14,
        ["ResourceNotFound"] = 15,
        ["InvalidCertificateName"] = 16,
        ["CertificateLimitExceeded"] = 17,
        ["MissingIfMatchHeader"] = 18,
        ["VerificationCodeMissing"] = 19,
        ["InvalidVerificationCertificate"] = 20,
        ["InvalidCertificate"] = 21,
    };

    public static int DetailNumber(string code) => DetailNumbers.GetValueOrDefault(code, 0);

    /// <summary>A field-level problem in the request body, with ARM's generic code.</summary>
    private static ArmErrorException InvalidRequestContent(string message) => new(400, "InvalidRequestContent", message);
}
