using System.Text.Json;
using System.Text.Json.Serialization;
using CheeseCave.Pki;
using CheeseCave.Portal.Setups;

namespace CheeseCave.Portal.Approvals;

/// <summary>The actions an installation can put behind four eyes (names as in <c>CheeseCave:Approvals:RequiredFor</c>).</summary>
public enum ApprovalAction
{
    CreateCa,
    ImportCa,
    UploadCa,
    ProveCa,
    EnrollmentGroup,
    IssueDevices,
    ExportPrivateKey,
}

/// <summary>Pending → Approved (being applied) → Applied or Failed; or Pending → Rejected, Expired or Cancelled.</summary>
public enum ApprovalStatus
{
    Pending,
    Approved,
    Applied,
    Failed,
    Rejected,
    Expired,
    Cancelled,
}

/// <summary>
/// What a request will do, with exactly the parameters the requester gave. Stored as JSON; applying an approved
/// request runs the same service code path with these values. Add one record per new action (see APPROVALS.md).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(CreateCaPayload), "create-ca")]
[JsonDerivedType(typeof(UploadCaPayload), "upload-ca")]
[JsonDerivedType(typeof(ProveCaPayload), "prove-ca")]
[JsonDerivedType(typeof(ImportCaPayload), "import-ca")]
[JsonDerivedType(typeof(ManualProofPayload), "prove-ca-manual")]
[JsonDerivedType(typeof(SaveEnrollmentGroupPayload), "save-enrollment-group")]
[JsonDerivedType(typeof(DeleteEnrollmentGroupPayload), "delete-enrollment-group")]
[JsonDerivedType(typeof(IssueDevicesPayload), "issue-devices")]
[JsonDerivedType(typeof(ExportPrivateKeyPayload), "export-private-key")]
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

    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ApprovalPayload FromJson(string json) =>
        JsonSerializer.Deserialize<ApprovalPayload>(json, Json) ?? throw new JsonException("Empty approval payload.");
}

public sealed record CreateCaPayload(string RootSubject, string? IntermediateSubject, ProfilePreset Preset) : ApprovalPayload
{
    public override ApprovalAction Action => ApprovalAction.CreateCa;
}

/// <param name="ThumbprintSha1">The root CA the requester saw; applying refuses if the setup's root is another.</param>
/// <param name="VerifiedOnUpload">DPS is told to trust the CA without proof of possession.</param>
public sealed record UploadCaPayload(string ThumbprintSha1, bool VerifiedOnUpload = false) : ApprovalPayload
{
    // Marking a CA verified on upload skips proof of possession, so it needs what proof of possession needs.
    public override ApprovalAction Action => VerifiedOnUpload ? ApprovalAction.ProveCa : ApprovalAction.UploadCa;

    // It is still an upload: requiring approval for either action gates it.
    public override IReadOnlyList<ApprovalAction> Actions => VerifiedOnUpload ? [ApprovalAction.UploadCa, ApprovalAction.ProveCa] : [ApprovalAction.UploadCa];
}

public sealed record ProveCaPayload(string ThumbprintSha1) : ApprovalPayload
{
    public override ApprovalAction Action => ApprovalAction.ProveCa;
}

/// <summary>
/// An existing CA, checked in full when requested. Public parts only: the CA certificate and the issuers above it (PEM),
/// and, when a key came with it, the id under which the key already waits encrypted in the protected key store.
/// </summary>
/// <param name="CertificatePem">The CA being imported.</param>
/// <param name="IssuerChainPem">The checked path above it, nearest issuer first (empty for a root).</param>
/// <param name="KeyId">The key's id in the protected key store, or null for a certificate only.</param>
/// <param name="ExistingRootSha1">The setup's root when requested (null: none); applying refuses if it changed.</param>
public sealed record ImportCaPayload(
    string CertificatePem,
    IReadOnlyList<string> IssuerChainPem,
    string? KeyId,
    string ThumbprintSha1,
    string ThumbprintSha256,
    string? ExistingRootSha1) : ApprovalPayload
{
    public override ApprovalAction Action => ApprovalAction.ImportCa;

    public override string? StoredKeyId => KeyId;
}

/// <summary>Manual proof of possession: a verification certificate signed elsewhere, for the code it was made for.</summary>
/// <param name="ThumbprintSha1">The root CA the certificate was checked against.</param>
/// <param name="VerificationPem">The user's verification certificate (public PEM).</param>
/// <param name="Code">The DPS verification code it carries; applying refuses if DPS has issued a newer one since.</param>
public sealed record ManualProofPayload(string ThumbprintSha1, string VerificationPem, string Code) : ApprovalPayload
{
    public override ApprovalAction Action => ApprovalAction.ProveCa;
}

public sealed record SaveEnrollmentGroupPayload(EnrollmentGroupForm Form) : ApprovalPayload
{
    public override ApprovalAction Action => ApprovalAction.EnrollmentGroup;
}

public sealed record DeleteEnrollmentGroupPayload(string GroupId) : ApprovalPayload
{
    public override ApprovalAction Action => ApprovalAction.EnrollmentGroup;
}

/// <param name="IssuerSha1">
/// The CA approvers were told would sign (intermediate or root); applying refuses if another would. Null in requests
/// stored before it was recorded (then the CA is whichever signs at apply time, as before).
/// </param>
public sealed record IssueDevicesPayload(IReadOnlyList<string> RegistrationIds, string? IssuerSha1 = null) : ApprovalPayload
{
    public override ApprovalAction Action => ApprovalAction.IssueDevices;

    public override bool OnePendingPerSetup => false;
}

public sealed record ExportPrivateKeyPayload(int CertificateId, string ThumbprintSha1) : ApprovalPayload
{
    public override ApprovalAction Action => ApprovalAction.ExportPrivateKey;

    public override bool OnePendingPerSetup => false;
}

/// <summary>One line of a request's plain-terms summary, e.g. ("Key type", "ECDSA P-256").</summary>
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

/// <summary>A recorded request the page shows as "Waiting for approval", with a link.</summary>
public sealed record ApprovalTicket(int RequestId, ApprovalAction Action, string Title, DateTimeOffset ExpiresAt)
{
    public string Href => $"approvals/{RequestId}";
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
