using CheeseCave.Portal.Approvals;

namespace CheeseCave.Portal.Setups.Pipeline;

/// <summary>How an applied setup request reads on its page: what was done, or why it could not be.</summary>
public static class SetupApprovalOutcome
{
    /// <param name="result">The change's result; null when the request names no setup.</param>
    public static ApprovalApplyResult Of<T>(PortalResult<T>? result, Func<T, ApprovalOutcome> describe)
    {
        ArgumentNullException.ThrowIfNull(describe);
        return result switch
        {
            null => ApprovalApplyResult.Failed("The request names no setup."),
            { Error: { } error } => ApprovalApplyResult.Failed($"{error.Message} {error.WhatToDo}".Trim()),
            { Value: { } value } => ApprovalApplyResult.Applied(describe(value)),
            _ => ApprovalApplyResult.Failed("Applying asked for approval again, which should not happen. Give an administrator the request number."),
        };
    }

    /// <summary>The requester's id, to hand a secret (a password, a passphrase) to them alone.</summary>
    public static string RequesterId(ApprovalGrant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return grant.RequestedById ?? throw new InvalidOperationException($"Request #{grant.RequestId} has no requester id to hand its secret to.");
    }
}
