namespace CheeseCave.Emulator.Service;

/// <summary>
/// The six-digit errorCode values of the emulator's DPS service API (HTTP status × 1000 + detail), sent in the body
/// and in x-ms-error-code. Azure's own numbers are mostly undocumented; the emulator keeps these stable, and every
/// message says in plain words what to change.
/// </summary>
internal static class ErrorCodes
{
    /// <summary>The body is not a JSON object, or a field has the wrong JSON type.</summary>
    public const int InvalidRequestBody = 400001;

    /// <summary>The id in the body differs from the one in the URL.</summary>
    public const int IdMismatch = 400002;

    /// <summary>An enrollment group id breaks the id rules.</summary>
    public const int InvalidEnrollmentGroupId = 400003;

    /// <summary>A registration id breaks the id rules (the code Azure uses for "Invalid RegistrationId").</summary>
    public const int InvalidRegistrationId = 400004;

    /// <summary>attestation missing, of an unknown or unsupported type, or shaped wrongly for the enrollment kind.</summary>
    public const int InvalidAttestation = 400005;

    /// <summary>caReferences names a certificate this DPS does not have.</summary>
    public const int CaCertificateNotFound = 400006;

    /// <summary>An X.509 certificate in the body cannot be read.</summary>
    public const int InvalidCertificate = 400007;

    /// <summary>A symmetric key is not base64 of 16 to 64 bytes.</summary>
    public const int InvalidSymmetricKey = 400008;

    /// <summary>iotHubs or iotHubHostName names a hub that is not linked to this DPS.</summary>
    public const int IotHubNotLinked = 400009;

    /// <summary>allocationPolicy is unknown, or does not fit iotHubs / customAllocationDefinition.</summary>
    public const int InvalidAllocationPolicy = 400010;

    /// <summary>Another enrollment field has a bad value (provisioningStatus, capabilities, reprovisionPolicy, initialTwin, deviceId...).</summary>
    public const int InvalidEnrollmentField = 400011;

    /// <summary>x-ms-continuation does not come from the previous page of the same query.</summary>
    public const int InvalidContinuationToken = 400012;

    /// <summary>x-ms-max-item-count is not a positive whole number.</summary>
    public const int InvalidMaxItemCount = 400013;

    /// <summary>A bulk operation body is malformed (mode, list, more than 10 items).</summary>
    public const int InvalidBulkOperation = 400014;

    /// <summary>Every SAS failure: missing or garbled header, expired token, unknown policy, bad signature, wrong host, missing right. info.reason tells which.</summary>
    public const int Unauthorized = 401002;

    /// <summary>The DPS already holds the maximum number of enrollment groups of that attestation type.</summary>
    public const int QuotaExceeded = 403001;

    /// <summary>No enrollment group or individual enrollment with that id.</summary>
    public const int EnrollmentNotFound = 404201;

    /// <summary>No device registration state with that id.</summary>
    public const int RegistrationNotFound = 404202;

    /// <summary>The service API has no such path.</summary>
    public const int NoSuchResource = 404001;

    /// <summary>The path exists but not with this HTTP method.</summary>
    public const int MethodNotAllowed = 405001;

    /// <summary>The enrollment exists and the PUT carried no If-Match (or a bulk create met an existing one).</summary>
    public const int EnrollmentExists = 409201;

    /// <summary>If-Match does not match the current etag (or the record does not exist).</summary>
    public const int PreconditionFailed = 412001;

    /// <summary>Injected throttling (fault settings).</summary>
    public const int Throttled = 429001;

    /// <summary>Injected unavailability (fault settings).</summary>
    public const int Unavailable = 503000;
}
