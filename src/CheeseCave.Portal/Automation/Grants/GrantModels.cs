namespace CheeseCave.Portal.Automation.Grants;

/// <summary>What a requester asks for (the page's form or the API's JSON body).</summary>
public sealed record GrantRequest(string Name, string Pattern, int MaxCount, int ValidityDays, int ExpiresInDays = GrantRules.DefaultExpiresInDays);

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<GrantStatus>))]
public enum GrantStatus
{
    Active,
    UsedUp,
    Expired,
    Revoked,
}

/// <summary>A grant as pages and the API show it.</summary>
public sealed record GrantView(
    int Id,
    int SetupId,
    string SetupName,
    string Name,
    string Pattern,
    int MaxCount,
    int IssuedCount,
    int ValidityDays,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    string RequestedBy,
    string? ApprovedBy,
    int? ApprovalRequestId,
    DateTimeOffset? RevokedAt,
    string? RevokedBy,
    GrantStatus Status)
{
    public int Remaining => Math.Max(0, MaxCount - IssuedCount);
}

/// <summary>A certificate signed under a grant, for its usage list.</summary>
public sealed record GrantDeviceView(int DeviceId, string RegistrationId, string SerialNumber, DateTimeOffset IssuedAt, DateTimeOffset NotAfter, string RequestedBy);

/// <summary>A grant with its most recent certificates.</summary>
public sealed record GrantDetails(GrantView Grant, IReadOnlyList<GrantDeviceView> Recent);

/// <summary>A signed CSR: the leaf, and the chain a device sends (the leaf followed by the CAs below the root).</summary>
public sealed record SignedCertificate(int DeviceId, string RegistrationId, string SerialNumber, DateTimeOffset NotAfter, string CertificatePem, string ChainPem, int GrantRemaining, IReadOnlyList<string> Warnings);

/// <summary>The limits a grant request is checked against.</summary>
public static class GrantRules
{
    public const int MaxNameLength = 100;
    public const int MaxCount = 1_000_000;
    public const int MaxValidityDays = 3650;
    public const int MaxExpiresInDays = 365;
    public const int DefaultExpiresInDays = 30;

    /// <summary>One sentence on what is wrong with the request, and what to do; null when it is acceptable.</summary>
    public static PortalError? Check(GrantRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = (request.Name ?? "").Trim();
        if (name.Length is 0 or > MaxNameLength)
        {
            return new PortalError($"The grant needs a name of 1 to {MaxNameLength} characters.", "Name it after the line or the run, e.g. \"Line 3, December\".");
        }

        if (FreeText.HiddenCharacterProblem(name, "grant name") is { } hidden)
        {
            return new PortalError(hidden, "Name it after the line or the run, e.g. \"Line 3, December\".");
        }

        if (GrantPattern.Parse(request.Pattern).Problem is { } problem)
        {
            return new PortalError(problem, "Give a registration-id prefix followed by *, e.g. \"line3-*\".");
        }

        if (request.MaxCount is < 1 or > MaxCount)
        {
            return new PortalError($"The maximum count must be between 1 and {MaxCount:N0}, not {request.MaxCount}.", "Ask for as many certificates as the run needs.");
        }

        if (request.ValidityDays is < 1 or > MaxValidityDays)
        {
            return new PortalError($"The certificate validity must be 1 to {MaxValidityDays} days, not {request.ValidityDays}.", "Choose how long the devices' certificates should last, e.g. 365.");
        }

        return request.ExpiresInDays is < 1 or > MaxExpiresInDays
            ? new PortalError($"A grant can last 1 to {MaxExpiresInDays} days, not {request.ExpiresInDays}.", "Choose how long the line needs it, e.g. 30 days.")
            : null;
    }
}
