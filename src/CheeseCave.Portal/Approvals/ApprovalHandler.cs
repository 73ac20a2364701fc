using System.Security.Claims;

namespace CheeseCave.Portal.Approvals;

/// <summary>
/// Applies an approved request of one payload type by re-running its feature's own code path with the approved
/// parameters, as the approver whose decision completed it. Each feature registers one per payload type
/// (<see cref="ApprovalRegistration.AddApprovalHandler{TPayload, THandler}"/>); Approvals knows features only
/// through this interface. An expected failure comes back as <see cref="ApprovalApplyResult.Failed"/>; surprises throw.
/// </summary>
public interface IApprovalHandler
{
    Type PayloadType { get; }

    Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, ApprovalPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken);
}

/// <summary>The typed base of <see cref="IApprovalHandler"/>: one payload record, one handler.</summary>
public abstract class ApprovalHandler<TPayload> : IApprovalHandler
    where TPayload : ApprovalPayload
{
    public Type PayloadType => typeof(TPayload);

    Task<ApprovalApplyResult> IApprovalHandler.ApplyAsync(ClaimsPrincipal approver, int? setupId, ApprovalPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken) =>
        ApplyAsync(approver, setupId, (TPayload)payload, grant, progress, cancellationToken);

    protected abstract Task<ApprovalApplyResult> ApplyAsync(ClaimsPrincipal approver, int? setupId, TPayload payload, ApprovalGrant grant, IProgress<string>? progress, CancellationToken cancellationToken);
}

public sealed record ApprovalApplyResult(ApprovalOutcome? Outcome, string? Error)
{
    public static ApprovalApplyResult Applied(ApprovalOutcome outcome) => new(outcome, null);

    public static ApprovalApplyResult Failed(string error) => new(null, error);
}
