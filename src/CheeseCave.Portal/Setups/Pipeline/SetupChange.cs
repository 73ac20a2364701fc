using System.Security.Claims;
using CheeseCave.Portal.Approvals;
using CheeseCave.Portal.Persistence;
using CheeseCave.Provisioning.Arm;

namespace CheeseCave.Portal.Setups.Pipeline;

/// <summary>
/// One change to a setup, as a handler hands it to <see cref="SetupPipeline.RunAsync{T}"/>: who asks, what it is
/// called in the audit trail and in a refusal ("create a DPS"), and the step's own logic (<see cref="Run"/>), which
/// gets the loaded setup (tracked: its changes are saved), an ARM client for the caller and the database context.
/// </summary>
/// <param name="Detail">The audit detail: the parameters in a few words.</param>
public sealed record SetupChange<T>(
    ClaimsPrincipal Caller,
    int SetupId,
    string AuditAction,
    string What,
    string Detail,
    Func<DpsSetup, ArmProvisioningClient, PortalDbContext, Task<PortalResult<T>>> Run)
{
    /// <summary>
    /// The change as an approval request: when the installation wants four eyes for it, the pipeline records this
    /// request (with its plain-terms summary) instead of running the change.
    /// </summary>
    public SetupPayload? Request { get; init; }

    /// <summary>Set when an approved request is being applied: no second request, and the audit names the approvers.</summary>
    public ApprovalGrant? Grant { get; init; }

    /// <summary>What only a successful run knows for the audit entry (e.g. the verification code DPS issued).</summary>
    public Func<string?>? SucceededDetail { get; init; }
}

/// <summary>
/// A setup change's parameters as an approval request. Each payload describes itself for the approvers (subject, key
/// type, validity, thumbprints, DPS, hubs, device count) and pins what the requester saw (e.g. the CA's thumbprint).
/// </summary>
public abstract record SetupPayload : ApprovalPayload
{
    /// <summary>The request to record for <paramref name="setup"/> (loaded with its certificates), or why asking is pointless now.</summary>
    public abstract SetupRequestPlan Plan(DpsSetup setup);
}

/// <summary>What <see cref="SetupPayload.Plan"/> decided: the pinned payload and its summary, or a problem.</summary>
public sealed record SetupRequestPlan(ApprovalPayload? Pinned, ApprovalSummary? Summary, PortalError? Problem)
{
    public static SetupRequestPlan Ask(ApprovalPayload pinned, string title, IReadOnlyList<ApprovalFact> facts) => new(pinned, new ApprovalSummary(title, facts), null);

    public static SetupRequestPlan Refuse(string problem, string whatToDo) => new(null, null, new PortalError(problem, whatToDo));

    public static SetupRequestPlan Refuse(PortalError problem) => new(null, null, problem);
}
