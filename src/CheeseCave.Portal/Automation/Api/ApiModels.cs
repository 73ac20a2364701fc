using CheeseCave.Portal.Automation.Grants;

namespace CheeseCave.Portal.Automation.Api;

/// <summary>A device batch: either the registration ids, or a prefix and a count (prefix-001, prefix-002, …).</summary>
public sealed record DeviceBatchRequest(IReadOnlyList<string>? RegistrationIds, string? Prefix = null, int? Count = null, int Start = 1);

/// <summary>A grant request through the API: the setup and the grant's terms.</summary>
public sealed record ApiGrantRequest(int SetupId, string Name, string Pattern, int MaxCount, int ValidityDays, int ExpiresInDays = GrantRules.DefaultExpiresInDays);

/// <summary>A CSR as JSON (the body may also be the PEM itself).</summary>
public sealed record CsrRequest(string Csr);

/// <summary>A change waiting for a colleague's approval: poll <see cref="StatusUrl"/>.</summary>
public sealed record PendingApproval(int RequestId, string Status, string Title, DateTimeOffset ExpiresAt, string StatusUrl, string PageUrl);

/// <summary>An approval request's state; <see cref="ResultUrl"/> points at what applying produced (a grant, a batch).</summary>
public sealed record ApprovalStatusView(int Id, string Action, int? SetupId, string Title, string Status, string RequestedBy, DateTimeOffset RequestedAt, DateTimeOffset ExpiresAt,
    int Approvals, int RequiredApprovals, IReadOnlyList<string> ApprovedBy, string? Outcome, string? ResultUrl, string? Error);

/// <summary>One device of a batch with its download links (the key and PFX ones need a browser session of the requester).</summary>
public sealed record ApiDevice(int Id, string RegistrationId, string ThumbprintSha1, DateTimeOffset NotAfter, string CertificateUrl, string ChainUrl, string KeyUrl, string PfxUrl);

/// <summary>An issued batch: the PFX password is returned this once.</summary>
public sealed record ApiDeviceBatch(string BatchId, string PfxPassword, DateTimeOffset KeysAvailableUntil, string ZipUrl, IReadOnlyList<ApiDevice> Devices, IReadOnlyList<string> Warnings);

/// <summary>A setup as scripts see it.</summary>
public sealed record ApiSetup(int Id, string Name, int CurrentStep, string? DpsName, string? IdScope, DateTimeOffset UpdatedAt);

/// <summary>A renewal: the device's CSR (PEM), or none to have the portal make the key.</summary>
public sealed record RenewalRequest(string? Csr);

/// <summary>A revocation: why, in a few words (kept with the certificate and in the audit).</summary>
public sealed record RevocationRequest(string? Reason);

/// <summary>
/// A renewed certificate: the new row, the one it replaced, and when the portal made the key, the PFX password (returned
/// this once) and the key/PFX links (the requester's browser session, until <see cref="KeysAvailableUntil"/>).
/// </summary>
public sealed record ApiDeviceRenewal(int Id, string RegistrationId, string ThumbprintSha1, DateTimeOffset NotAfter, int RenewedDeviceId,
    string CertificateUrl, string ChainUrl, string? KeyUrl, string? PfxUrl, string? PfxPassword, DateTimeOffset? KeysAvailableUntil,
    string PageUrl, bool IndividualEnrollmentUpdated, IReadOnlyList<string> Warnings);
