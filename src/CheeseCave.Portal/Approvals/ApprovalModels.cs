using System.Text.Json;
using System.Text.Json.Serialization;

namespace CheeseCave.Portal.Approvals;

/// <summary>
/// What a request will do, with exactly the parameters the requester gave. Stored as JSON; applying an approved
/// request runs the same code path with these values. Each feature declares its payload records (named with
/// <see cref="ApprovalPayloadKindAttribute"/>) and one <see cref="IApprovalHandler"/> for each (see APPROVALS.md).
/// </summary>
public abstract record ApprovalPayload
{
    [JsonIgnore]
    public abstract ApprovalAction Action { get; }

    /// <summary>
    /// Every action this request falls under: approval is needed when any of them is required. <see cref="Action"/>
    /// is the one it is filed and shown under.
    /// </summary>
    [JsonIgnore]
    public virtual IReadOnlyList<ApprovalAction> Actions => [Action];

    /// <summary>Single-shot actions refuse a second pending request for the same setup.</summary>
    [JsonIgnore]
    public virtual bool OnePendingPerSetup => true;

    /// <summary>
    /// A key the request put into the protected key store before it was approved: deleted when the request ends
    /// without using it (rejected, cancelled, expired, failed).
    /// </summary>
    [JsonIgnore]
    public virtual string? StoredKeyId => null;

    public string ToJson() => JsonSerializer.Serialize(this, ApprovalPayloadJson.Options);

    public static ApprovalPayload FromJson(string json) =>
        JsonSerializer.Deserialize<ApprovalPayload>(json, ApprovalPayloadJson.Options) ?? throw new JsonException("Empty approval payload.");
}

public sealed record ApprovalFact(string Label, string Value);

/// <summary>What will happen, computed when the request is made, so approvers judge what the requester saw.</summary>
public sealed record ApprovalSummary(string Title, IReadOnlyList<ApprovalFact> Facts)
{
    private static readonly JsonSerializerOptions Json = new();

    public string FactsJson() => JsonSerializer.Serialize(Facts, Json);

    public static IReadOnlyList<ApprovalFact> ParseFacts(string json) => JsonSerializer.Deserialize<List<ApprovalFact>>(json, Json) ?? [];
}

/// <summary>Given to the service code path when it applies an approved request: for attribution in the audit log.</summary>
public sealed record ApprovalGrant(int RequestId, string RequestedBy, string? RequestedById, IReadOnlyList<string> ApprovedBy)
{
    public string AuditNote => $"applied for {RequestedBy}, approved by {string.Join(", ", ApprovedBy)} (request #{RequestId})";
}

/// <summary>What applying produced: a sentence for everyone, and links for the requester (downloads are authorized again).</summary>
public sealed record ApprovalOutcome(string Text, string? Link = null, string? LinkText = null, bool HasSecret = false, bool IsDownload = false)
{
    private static readonly JsonSerializerOptions Json = new();

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ApprovalOutcome? FromJson(string? json) => string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize<ApprovalOutcome>(json, Json);
}

/// <summary>One approval or rejection.</summary>
public sealed record ApprovalDecisionView(string Approver, bool Approved, string? Comment, DateTimeOffset At);

/// <summary>A request as pages see it. <see cref="Status"/> already says Expired for a pending request past its time.</summary>
public sealed record ApprovalView(
    int Id,
    ApprovalAction Action,
    int? SetupId,
    string? SetupName,
    string Title,
    IReadOnlyList<ApprovalFact> Facts,
    string RequestedBy,
    string? RequestedById,
    DateTimeOffset RequestedAt,
    DateTimeOffset ExpiresAt,
    ApprovalStatus Status,
    int RequiredApprovals,
    IReadOnlyList<ApprovalDecisionView> Decisions,
    DateTimeOffset? DecidedAt,
    string? AppliedBy,
    DateTimeOffset? AppliedAt,
    ApprovalOutcome? Outcome,
    string? Error,
    bool CallerIsRequester,
    bool CallerMayDecide,
    bool SecretWaiting)
{
    public int Approvals => Decisions.Count(d => d.Approved);

    public bool IsOpen => Status == ApprovalStatus.Pending;

    public string Href => $"approvals/{Id}";
}

public enum ApprovalFilter
{
    /// <summary>Waiting for a decision (not expired).</summary>
    Pending,

    /// <summary>Requested by the caller.</summary>
    Mine,

    All,
}

/// <summary>Something changed about a request: pages listening re-read it.</summary>
public sealed record ApprovalChange(int RequestId, ApprovalAction Action, int? SetupId, ApprovalStatus Status);

public static class ApprovalText
{
    public static string Describe(ApprovalAction action) => action switch
    {
        ApprovalAction.CreateCa => "Create a CA",
        ApprovalAction.ImportCa => "Import a CA",
        ApprovalAction.UploadCa => "Upload a CA to a DPS",
        ApprovalAction.ProveCa => "Proof of possession",
        ApprovalAction.EnrollmentGroup => "Enrollment group",
        ApprovalAction.IssueDevices => "Issue device certificates",
        ApprovalAction.ExportPrivateKey => "Export a private key",
        ApprovalAction.RenewDevice => "Renew a device certificate",
        ApprovalAction.RevokeDevice => "Revoke a device",
        ApprovalAction.RestoreDevice => "Restore a revoked device",
        ApprovalAction.RevokeCa => "Revoke a CA",
        ApprovalAction.RetireCa => "Retire the old CA (rollover)",
        ApprovalAction.IssuanceGrant => "Issuance grant (factory line)",
        _ => action.ToString(),
    };

    public static string Describe(ApprovalStatus status) => status switch
    {
        ApprovalStatus.Pending => "Waiting for approval",
        ApprovalStatus.Approved => "Approved, applying",
        ApprovalStatus.Applied => "Applied",
        ApprovalStatus.Failed => "Approved, but applying failed",
        ApprovalStatus.Rejected => "Rejected",
        ApprovalStatus.Expired => "Expired",
        ApprovalStatus.Cancelled => "Cancelled",
        _ => status.ToString(),
    };
}
