namespace CheeseCave.Provisioning.Errors;

/// <summary>Which API a failed call went to.</summary>
public enum ProvisioningSurface
{
    /// <summary>Azure Resource Manager (resource groups, DPS, DPS certificates, IoT hubs).</summary>
    Arm,

    /// <summary>The DPS service (data-plane) API: enrollments and registration states.</summary>
    Service,

    /// <summary>The DPS device registration API (HTTPS or MQTT).</summary>
    Device,
}

/// <summary>
/// The one exception the provisioning clients throw for a failed call (other than argument errors and cancellation,
/// which is never wrapped). <see cref="Exception.Message"/> is a plain sentence for the user; the other properties
/// tell code what happened. Built only by <see cref="ProvisioningErrorClassifier"/>.
/// </summary>
public class ProvisioningException : Exception
{
    public ProvisioningException()
        : this("The provisioning call failed.")
    {
    }

    public ProvisioningException(string message)
        : this(message, null)
    {
    }

    public ProvisioningException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Info = EmptyInfo;
    }

    public ProvisioningException(ProvisioningErrorDetails details, Exception? innerException = null)
        : base((details ?? throw new ArgumentNullException(nameof(details))).Message, innerException)
    {
        Surface = details.Surface;
        Status = details.Status;
        ServiceErrorCode = details.ServiceErrorCode;
        CorrelationId = details.CorrelationId;
        IsTransient = details.IsTransient;
        RetryAfter = details.RetryAfter;
        Info = details.Info ?? EmptyInfo;
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyInfo = new Dictionary<string, string>();

    public ProvisioningSurface Surface { get; }

    /// <summary>The HTTP status (or the MQTT response status); 0 when no answer arrived (network error, timeout).</summary>
    public int Status { get; }

    /// <summary>The service's error code: ARM's error.code ("ResourceNotFound") or DPS's errorCode ("401002"); null if none was sent.</summary>
    public string? ServiceErrorCode { get; }

    /// <summary>What to quote to support: x-ms-request-id, the DPS trackingId, or the client request id this library sent.</summary>
    public string? CorrelationId { get; }

    /// <summary>True when trying again later may work (429, 5xx, timeouts, network errors); the clients already retried.</summary>
    public bool IsTransient { get; }

    /// <summary>The delay the service asked for (Retry-After), if any.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>
    /// The service's diagnostic details when it sent some: the DPS error body's "info" object (the emulator puts
    /// "reason", "hint", "missing", ... there), top-level values as text, nested values as their JSON.
    /// </summary>
    public IReadOnlyDictionary<string, string> Info { get; }
}

/// <summary>
/// HTTP 412: the resource changed since it was read (its etag no longer matches). The clients re-read and retry
/// where that is safe; when this still escapes, read the resource again and repeat the change.
/// </summary>
public sealed class ResourceChangedException : ProvisioningException
{
    public ResourceChangedException()
        : this("The resource changed since it was read; read it again.")
    {
    }

    public ResourceChangedException(string message)
        : base(message)
    {
    }

    public ResourceChangedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public ResourceChangedException(ProvisioningErrorDetails details, Exception? innerException = null)
        : base(details, innerException)
    {
    }
}

/// <summary>What <see cref="ProvisioningErrorClassifier"/> found out about a failure.</summary>
public sealed record ProvisioningErrorDetails(
    ProvisioningSurface Surface,
    int Status,
    string Message,
    string? ServiceErrorCode = null,
    string? CorrelationId = null,
    bool IsTransient = false,
    TimeSpan? RetryAfter = null,
    IReadOnlyDictionary<string, string>? Info = null);
