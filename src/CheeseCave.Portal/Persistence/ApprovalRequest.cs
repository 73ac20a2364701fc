namespace CheeseCave.Portal.Persistence;

/// <summary>
/// A four-eyes request as stored: the action and its parameters (JSON), the plain-terms summary computed when it was
/// made, who asked, until when it can be approved, and how it ended. No secrets: passwords and keys that applying
/// produces go to the requester through the approval hand-off, never here.
/// </summary>
public sealed class ApprovalRequest
{
    public int Id { get; set; }

    public ApprovalAction Action { get; set; }

    public int? SetupId { get; set; }

    public string Title { get; set; } = "";

    public string FactsJson { get; set; } = "[]";

    public string PayloadJson { get; set; } = "{}";

    public string? RequestedById { get; set; }

    public string RequestedBy { get; set; } = "";

    public DateTimeOffset RequestedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Distinct approvers needed, as configured when the request was made.</summary>
    public int RequiredApprovals { get; set; } = 1;

    public ApprovalStatus Status { get; set; } = ApprovalStatus.Pending;

    /// <summary>When it left Pending (approved, rejected, expired or cancelled).</summary>
    public DateTimeOffset? DecidedAt { get; set; }

    /// <summary>The approver whose decision applied it.</summary>
    public string? AppliedBy { get; set; }

    public DateTimeOffset? AppliedAt { get; set; }

    /// <summary>The approval outcome as JSON when applied.</summary>
    public string? OutcomeJson { get; set; }

    /// <summary>Why applying failed, in plain words.</summary>
    public string? Error { get; set; }

    /// <summary>The portal instance applying it (set with Approved): if that instance dies, another marks it interrupted.</summary>
    public string? ApplyingInstance { get; set; }

    public List<ApprovalDecision> Decisions { get; set; } = [];
}

/// <summary>One approver's decision. (RequestId, ApproverId) is unique, so nobody counts twice.</summary>
public sealed class ApprovalDecision
{
    public int Id { get; set; }

    public int RequestId { get; set; }

    public string ApproverId { get; set; } = "";

    public string Approver { get; set; } = "";

    public bool Approved { get; set; }

    public string? Comment { get; set; }

    public DateTimeOffset At { get; set; }
}
