namespace CheeseCave.Portal.Persistence;

/// <summary>
/// Permission for a factory line to have device CSRs signed without a person per device: for one setup, registration
/// ids matching <see cref="Pattern"/> (a glob: <c>*</c> any run of id characters, <c>?</c> one), at most
/// <see cref="MaxCount"/> certificates of <see cref="ValidityDays"/> days, until <see cref="ExpiresAt"/>. Created
/// active once approved (or at once when the installation does not gate grants); revoking stops it at once.
/// </summary>
public sealed class IssuanceGrant
{
    public int Id { get; set; }

    public int SetupId { get; set; }

    /// <summary>What the line or batch is ("Line 3, December run").</summary>
    public string Name { get; set; } = "";

    public string Pattern { get; set; } = "";

    public int MaxCount { get; set; }

    /// <summary>Certificates signed so far; only ever raised by a conditional update that keeps it within <see cref="MaxCount"/>.</summary>
    public int IssuedCount { get; set; }

    public int ValidityDays { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public string? RequestedById { get; set; }

    public string RequestedBy { get; set; } = "";

    /// <summary>Comma-separated approvers; null when the installation did not require approval for grants.</summary>
    public string? ApprovedBy { get; set; }

    /// <summary>The approval request that created it, if any.</summary>
    public int? ApprovalRequestId { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public string? RevokedBy { get; set; }
}
