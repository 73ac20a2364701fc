namespace CheeseCave.Portal.Common;

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
    RetireCa,
    RenewDevice,
    RevokeDevice,
    RestoreDevice,
    RevokeCa,
    IssuanceGrant,
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

/// <summary>A recorded request the page shows as "Waiting for approval", with a link.</summary>
public sealed record ApprovalTicket(int RequestId, ApprovalAction Action, string Title, DateTimeOffset ExpiresAt)
{
    public string Href => $"approvals/{RequestId}";
}
