using System.Security.Claims;

namespace CheeseCave.Portal.Approvals;

/// <summary>
/// Applies an approved request by re-running the use case's own code path with the approved parameters, as the
/// approver whose decision completed it. Returns the outcome; an expected failure (a <see cref="Setups.SetupError"/>)
/// comes back as <see cref="ApprovalApplyResult.Failed"/>, surprises throw.
/// </summary>
public interface IApprovalExecutor
{
    Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, ApprovalPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken);
}

public sealed record ApprovalApplyResult(ApprovalOutcome? Outcome, string? Error)
{
    public static ApprovalApplyResult Applied(ApprovalOutcome outcome) => new(outcome, null);

    public static ApprovalApplyResult Failed(string error) => new(null, error);
}
